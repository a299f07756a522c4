"""Bodies whose JSON is not text: a lone surrogate escape is a 400 naming it, never a 500."""


def test_a_lone_surrogate_in_a_body_is_refused_with_a_clear_message(http):
    for path in ("/v1/assessments", "/v1/interview/next"):
        for body in ('{"answers": {"\\ud800": 1}}', '{"\\ud800": 1}', '{"answers": {"movement": "\\udfff"}}'):
            response = http.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (path, body, response.text)
            assert "lone surrogate" in response.text
