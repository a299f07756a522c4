"""The clinical vignettes of vignettes.yaml: triage, red flags and top-three cause for each."""
from pathlib import Path

import pytest
import yaml

import expert

VIGNETTES = yaml.safe_load((Path(__file__).parent / "vignettes.yaml").read_text())["vignettes"]


def test_there_are_at_least_thirty_vignettes():
    assert len(VIGNETTES) >= 30
    assert len({v["id"] for v in VIGNETTES}) == len(VIGNETTES)


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(vignette):
    result = expert.assess(vignette["case"])
    expected = vignette["expect"]
    assert result.triage.level == expected["triage"], result.triage
    raised = {flag.id for flag in result.red_flags}
    assert set(expected["red_flags"]) <= raised, f"missing red flags: {set(expected['red_flags']) - raised}"
    for flag in expected.get("absent_red_flags", []):
        assert flag not in raised
    top3 = [cause.id for cause in result.causes[:3]]
    assert expected["top3"] in top3, f"{expected['top3']} not in top three {top3}"
    score = next(cause.score for cause in result.causes if cause.id == expected["top3"])
    assert score > 0, f"{expected['top3']} is listed but its evidence against outweighs the evidence for it"
