"""The shipped example cases assess to the triage examples/README.md documents for them."""
import json
import re
from pathlib import Path

import pytest

import expert
from expert.documents import read_file
from tests.conftest import run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DOCUMENTED = dict(re.findall(r"^\| `([\w.-]+)` \| [^|]+ \| (\w+) \|$", (EXAMPLES / "README.md").read_text(), re.M))


def test_every_example_file_is_documented():
    files = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")}
    assert files == set(DOCUMENTED) and len(files) >= 5


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_example_assesses_to_its_documented_triage(name):
    result = run("assess", str(EXAMPLES / name), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["triage"]["level"] == DOCUMENTED[name]


def test_the_jsonl_example_holds_every_example_in_order(tmp_path):
    lines = (EXAMPLES / "cases.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [read_file(EXAMPLES / name).data for name in (
        "heat-cramps.yaml", "eyelid-twitch.yaml", "night-cramps-diuretic.json", "twitching-weakness-wasting.yaml",
        "convulsion.yaml")]
    result = run("batch", str(EXAMPLES / "cases.jsonl"))
    levels = [json.loads(line)["triage"]["level"] for line in result.output.splitlines() if line.startswith("{")]
    assert levels == ["urgent", "self_care", "routine", "urgent", "emergency"]
    assert expert.assess(json.loads(lines[4])).triage.level == "emergency"
