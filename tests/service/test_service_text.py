"""Bodies whose JSON is not text: a lone surrogate escape is a 400 naming it, never a 500."""


def test_a_lone_surrogate_in_a_body_is_refused_with_a_clear_message(http):
    for path in ("/v1/assessments", "/v1/interview/next"):
        for body in ('{"answers": {"\\ud800": 1}}', '{"\\ud800": 1}', '{"answers": {"movement": "\\udfff"}}'):
            response = http.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (path, body, response.text)
            assert "lone surrogate" in response.text


def test_messages_describe_values_in_plain_words_and_stay_short(http):
    response = http.post("/v1/assessments", content="null", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "got nothing" in response.text and "NoneType" not in response.text
    response = http.post("/v1/assessments", content="[1]", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "got a list" in response.text
    response = http.get("/v1/" + "x" * 5000)
    assert response.status_code == 404 and len(response.json()["error"]["message"]) < 120
