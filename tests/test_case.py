"""Case validation (docs/contract.md section 1): every bad field is named with what is allowed."""
import json

import pytest

from expert import CaseError
from expert.case import parse_case
from expert.documents import parse_json, parse_yaml, read_file


def problems(small, data):
    with pytest.raises(CaseError) as caught:
        small.case(data)
    return caught.value.problems


def test_a_valid_case_is_typed(small):
    case = small.case({"age": 70, "sex": "female", "answers": {
        "movement": "cramp", "sites": ["calf", "hand"], "episode_minutes": 2.5, "weakness": False,
        "thirst": "unknown"}})
    assert case.answers == {"age": 70, "sex": "female", "movement": "cramp", "sites": frozenset({"calf", "hand"}),
                            "episode_minutes": 2.5, "weakness": False}
    assert case.skipped == {"thirst"}


def test_to_dict_writes_the_contract_format_in_vocabulary_order(small):
    case = small.case({"answers": {"sites": ["hand", "calf"], "thirst": "unknown"}, "age": 3})
    assert case.to_dict(small.kb) == {"age": 3, "answers": {"sites": ["calf", "hand"], "thirst": "unknown"}}


@pytest.mark.parametrize("data, field, words", [
    ({"answers": {"movement": "crampp"}}, "answers.movement", ["'crampp' is not a value of movement",
                                                               "did you mean 'cramp'", "twitch"]),
    ({"answers": {"sites": ["calf", "knee"]}}, "answers.sites", ["'knee' is not a value of sites", "eyelid"]),
    ({"answers": {"sites": "calf"}}, "answers.sites", ["takes a list", "[calf]"]),
    ({"answers": {"weakness": "yes"}}, "answers.weakness", ["'yes' is not a valid answer", "true or false"]),
    ({"answers": {"episode_minutes": -1}}, "answers.episode_minutes", ["out of range", "from 0 to 1000"]),
    ({"answers": {"episode_minutes": True}}, "answers.episode_minutes", ["not a number"]),
    ({"answers": {"episode_minutes": float("nan")}}, "answers.episode_minutes", ["not a number"]),
    ({"answers": {"movement": None}}, "answers.movement", ["None is not a value", "or unknown"]),
    ({"age": 130}, "age", ["out of range", "from 0 to 120"]),
    ({"sex": "f"}, "sex", ["'f' is not a value of sex", "female"]),
    ({"answers": {"weaknes": True}}, "answers.weaknes", ["unknown observation 'weaknes'", "weakness"]),
    ({"answers": {"age": 40}}, "answers.age", ["top of the case"]),
    ({"agee": 40}, "agee", ["unknown field 'agee'", "age"]),
    ({"answers": ["movement"]}, "answers", ["must be a mapping"]),
])
def test_bad_fields_are_named_with_what_is_allowed(small, data, field, words):
    found = problems(small, data)
    assert len(found) == 1, found
    text = str(found[0])
    assert found[0].field == field
    for word in words:
        assert word in text, text


def test_every_bad_field_is_reported_together(small):
    found = problems(small, {"age": -1, "answers": {"movement": "x", "weakness": 1}})
    assert [p.field for p in found] == ["age", "answers.movement", "answers.weakness"]


def test_a_case_must_be_a_mapping(small):
    assert "must be a mapping" in problems(small, [1, 2])[0].message


def test_thousands_of_unknown_keys_are_rejected_briefly(small):
    """Rejected before each key is examined (python -m bench measures how fast)."""
    data = {"answers": {f"key{i}": True for i in range(10_000)}}
    error = pytest.raises(CaseError, small.case, data).value
    assert len(error.problems) == 1 and len(str(error).splitlines()) == 1
    assert "10000 answers given" in str(error)
    data = {f"key{i}": 1 for i in range(10_000)}
    error = pytest.raises(CaseError, small.case, data).value
    assert len(error.problems) == 6 and "9995 more unknown fields" in str(error)


def test_a_yaml_case_file_reports_the_line_of_the_bad_value(small, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("age: 40\nanswers:\n  movement: cramp\n  sites: [calf, knee]\n")
    found = problems(small, str(path))
    assert found[0].file == str(path) and found[0].line == 4 and found[0].field == "answers.sites"
    assert f"{path}:4: answers.sites:" in str(found[0])


def test_a_json_case_file_reports_the_line_too(small, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"age": 40, "answers": {"movement": "cramp", "weakness": "no"}}, indent=2))
    found = problems(small, path)
    assert found[0].line == 5 and found[0].field == "answers.weakness"


def test_malformed_yaml_names_the_line(small, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("age: 40\nanswers:\n  movement: [cramp\n")
    found = problems(small, path)
    assert found[0].message.startswith("YAML syntax error") and found[0].line >= 3


def test_malformed_json_names_the_line(small, tmp_path):
    path = tmp_path / "case.json"
    path.write_text('{\n  "age": 40,\n  "answers": {,}\n}')
    found = problems(small, path)
    assert found[0].message.startswith("JSON syntax error") and found[0].line == 3


def test_a_path_that_cannot_be_a_file_name_is_a_case_error(small):
    assert problems(small, "\x00")[0].message == "not a valid file name"


def test_missing_file_and_directory_and_binary(small, tmp_path):
    assert problems(small, tmp_path / "nope.yaml")[0].message == "file not found"
    assert "directory" in problems(small, tmp_path)[0].message
    binary = tmp_path / "case.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "not UTF-8" in problems(small, binary)[0].message


def test_json_duplicate_keys_and_constants_are_refused():
    with pytest.raises(CaseError, match="duplicate key 'age'"):
        parse_json('{"age": 1, "age": 2}', error=CaseError)
    with pytest.raises(CaseError, match="NaN is not a valid JSON number"):
        parse_json('{"age": NaN}', error=CaseError)


def test_yaml_anchors_cannot_blow_up():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for letter, previous in zip("bcdefgh", "abcdefg", strict=True):
        bomb += f"{letter}: &{letter} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, " \
                f"*{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
    with pytest.raises(CaseError, match="more than"):
        parse_yaml(bomb, error=CaseError)


def test_lines_are_remembered_for_nested_values():
    doc = parse_yaml("a:\n  b:\n    - 1\n    - c: 2\n")
    assert doc.line(("a", "b", 1, "c")) == 4
    assert doc.line(("a", "b", 0)) == 3
    assert doc.line(("a", "missing")) == 1


def test_read_file_accepts_a_utf8_bom(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_bytes("\ufeffage: 3\n".encode())
    assert read_file(path).data == {"age": 3}


def test_parse_case_accepts_a_mapping_path_or_document(small, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("age: 40\n")
    assert parse_case(str(path), small.kb).answers == {"age": 40}
    assert parse_case({"age": 40}, small.kb).answers == {"age": 40}
