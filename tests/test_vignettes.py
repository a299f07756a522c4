"""The clinical vignettes of vignettes.yaml: triage, red flags and top-three cause for each.

Each vignette's expectation is written from a source document or from public guidance (NHS,
NHS Inform, NICE), never from the tool's output. Besides the ordinary vignettes there are:
- dangerous look-alikes (``kind: lookalike``): a presentation that looks like a harmless spasm
  but may be dangerous, such as a clot felt as a calf cramp;
- sparse vignettes (``sparse: true``): three or fewer answers beyond the movement and the sites,
  as a busy clinician enters them. Their expectation is what a clinician would do without the
  unasked answers: an exception nobody asked about is not known to be present.

Red flags whose benign exception is unanswered are raised as *possible* and count towards the
triage, so a sparse vignette whose only red flag waits on an unasked exception still expects it.
"""
from pathlib import Path

import pytest
import yaml

import expert

VIGNETTES = yaml.safe_load((Path(__file__).parent / "vignettes.yaml").read_text())["vignettes"]
KINDS = {"typical", "benign", "lookalike"}


def extra_answers(vignette) -> int:
    """Answers beyond the movement and the sites (age and sex are not answers)."""
    return len(set(vignette["case"].get("answers", {})) - {"movement", "sites"})


def cited(vignette) -> list:
    source = vignette["source"]
    return source if isinstance(source, list) else [source]


def test_there_are_enough_vignettes_of_each_kind():
    assert len(VIGNETTES) >= 150
    assert len({v["id"] for v in VIGNETTES}) == len(VIGNETTES)
    assert sum(v.get("kind") == "lookalike" for v in VIGNETTES) >= 50
    assert sum(bool(v.get("sparse")) for v in VIGNETTES) >= 30


def test_every_vignette_is_labelled_honestly():
    sources = set(expert.default_expert().kb.sources)
    for vignette in VIGNETTES:
        assert vignette.get("kind", "typical") in KINDS, vignette["id"]
        assert cited(vignette) and set(cited(vignette)) <= sources, f"{vignette['id']} cites an unknown source"
        assert vignette["story"].strip(), vignette["id"]
        assert bool(vignette.get("sparse")) == (extra_answers(vignette) <= 3), (
            f"{vignette['id']}: sparse means three or fewer answers beyond movement and sites")


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(vignette):
    result = expert.assess(vignette["case"])
    expected = vignette["expect"]
    assert result.triage.level == expected["triage"], result.triage
    raised = {flag.id for flag in result.red_flags}
    assert set(expected["red_flags"]) <= raised, f"missing red flags: {set(expected['red_flags']) - raised}"
    for flag in expected.get("absent_red_flags", []):
        assert flag not in raised
    if expected["top3"] is None:  # no cause in the knowledge base; the red flags carry the case
        return
    top3 = [cause.id for cause in result.causes[:3]]
    assert expected["top3"] in top3, f"{expected['top3']} not in top three {top3}"
    score = next(cause.score for cause in result.causes if cause.id == expected["top3"])
    assert score > 0, f"{expected['top3']} is listed but its evidence against outweighs the evidence for it"


URGENCY = {"self_care": 0, "routine": 1, "urgent": 2, "emergency": 3}


def triage_summary() -> dict:
    """Counts of vignettes by kind and expected level, and which are under- or over-triaged now."""
    summary = {"total": len(VIGNETTES), "lookalike": 0, "benign": 0, "sparse": 0, "by_level": {},
               "under": [], "over": []}
    for vignette in VIGNETTES:
        expected = vignette["expect"]["triage"]
        summary["by_level"][expected] = summary["by_level"].get(expected, 0) + 1
        summary["sparse"] += bool(vignette.get("sparse"))
        if vignette.get("kind") in ("lookalike", "benign"):
            summary[vignette["kind"]] += 1
        got = expert.assess(vignette["case"]).triage.level
        if URGENCY[got] < URGENCY[expected]:
            summary["under"].append((vignette["id"], bool(vignette.get("sparse")), expected, got))
        elif URGENCY[got] > URGENCY[expected]:
            summary["over"].append((vignette["id"], bool(vignette.get("sparse")), expected, got))
    return summary


def test_no_vignette_that_is_not_sparse_is_under_triaged():
    under = [entry for entry in triage_summary()["under"] if not entry[1]]
    assert not under, under


if __name__ == "__main__":  # python -m tests.test_vignettes
    result = triage_summary()
    print(f"{result['total']} vignettes: {result['lookalike']} dangerous look-alikes, {result['benign']} harmless "
          f"twins, {result['sparse']} sparse; expected levels {result['by_level']}")
    for kind in ("under", "over"):
        entries = result[kind]
        print(f"{kind}-triaged: {len(entries)} ({sum(not e[1] for e in entries)} not sparse)")
        for vignette_id, sparse, expected, got in entries:
            print(f"  {vignette_id}{' (sparse)' if sparse else ''}: expected {expected}, got {got}")
