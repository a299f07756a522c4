"""Explanations: how a conclusion was reached, why another was not, why a question is asked."""
import pytest

from expert import UnknownIdError


@pytest.fixture
def heat(small):
    return small.assess({"answers": {"heat": True, "thirst": True, "exercise": True, "movement": "cramp"}})


def test_how_walks_down_to_the_observations(heat):
    tree = heat.how("heat_exhaustion")
    assert tree.rule == "red_flag.heat_exhaustion" and tree.sources == ("doc",)
    assert tree.facts == ()
    finding = tree.because[0]
    assert finding.id == "heat_signs" and finding.rule == "finding.heat_signs"
    assert finding.to_dict()["facts"] == [{"id": "exercise", "value": True}, {"id": "thirst", "value": True},
                                          {"id": "heat", "value": True}]
    assert "at least 2 of" in finding.condition


def test_how_a_cause_lists_each_piece_of_evidence_with_its_weight(heat):
    tree = heat.how("overuse")
    assert tree.kind == "cause" and tree.score == 0.6
    assert [(e.rule, e.cf) for e in tree.because] == [("cause.overuse.exercise", 0.6)]
    assert [(e["rule"], e["cf"]) for e in tree.to_dict()["because"]] == [("cause.overuse.exercise", 0.6)]


def test_how_the_triage_was_reached(heat):
    tree = heat.how("triage")
    assert tree.level == "urgent" and tree.to_dict()["level"] == "urgent"
    assert [child.id for child in tree.because] == ["heat_exhaustion"]


def test_how_advice_that_rests_on_a_cause_and_a_red_flag(heat):
    assert heat.how("cool_down").because[0].id == "heat_exhaustion"
    rest = heat.how("rest")
    assert rest.because[0].kind == "cause" and rest.because[0].id == "overuse"


def test_how_reports_what_unless_took_as_not_reported(small):
    tree = small.assess({"answers": {"movement": "cramp"}}).how("stretch")
    assert tree.rule == "advice.stretch" and tree.to_dict()["not_reported"] == ["weakness"]
    assert "not_reported" not in small.assess({"answers": {"movement": "cramp", "weakness": False}}).how(
        "stretch").to_dict()
    assert small.assess({"answers": {"movement": "cramp", "weakness": True}}).how("stretch") is None


def test_how_of_something_not_concluded_is_none(heat):
    assert heat.how("convulsion") is None
    assert heat.how("nerve_disease") is None


def test_why_not_names_missing_and_contradicted_conditions(small):
    result = small.assess({"answers": {"movement": "twitch", "weakness": False}})
    answer = result.why_not("nerve_disease")
    assert answer.concluded is False
    first = answer.to_dict()["rules"][0]
    assert first["rule"] == "cause.nerve_disease.twitch_weak"
    assert [c["observation"] for c in first["met"]] == ["movement"]
    assert first["contradicted"] == [{"condition": "weakness is yes", "observation": "weakness", "answer": False}]
    assert first["missing"] == [{"condition": "not sites include eyelid", "observation": "sites"}]
    second = answer.rules[1]
    assert [c.observation for c in second.missing] == ["age"]
    assert "unanswered: age, sites" in answer.summary


def test_why_not_follows_findings_down(small):
    result = small.assess({"answers": {"movement": "cramp", "sites": ["calf"]}})
    rule = result.why_not("overuse").rules[1]
    assert rule.rule == "cause.overuse.long_calf"
    detail = rule.missing[0].detail
    assert detail is not None and detail.id == "long_calf_cramp"
    inner = detail.to_dict()["rules"][0]["missing"][0]["detail"]["rules"][0]
    assert [m["observation"] for m in inner["missing"]] == ["episode_minutes"]
    assert "unanswered: episode_minutes, exercise" in result.why_not("overuse").summary


def test_why_not_of_a_concluded_red_flag_says_so(heat):
    answer = heat.why_not("heat_exhaustion")
    assert answer.concluded is True and "spasm explain CASE --how heat_exhaustion" in answer.summary


def test_why_a_question_is_asked(small):
    result = small.assess({"answers": {"movement": "twitch"}})
    answer = result.why("weakness")
    effects = {(r.conclusion, r.effect.split(" (")[0]) for r in answer.rules}
    assert ("weak_and_wasting", "could raise the triage to urgent") in effects
    assert ("nerve_disease", "evidence for Nerve disease") in effects
    emergency = small.assess({"answers": {"movement": "convulsion"}})
    uses = [rule for question in emergency.unanswered for rule in emergency.why(question).rules]
    assert uses and not [r for r in uses if "could raise the triage" in r.effect]  # nothing can raise it
    assert {r.to_dict()["kind"] for r in uses} == {"evidence", "red_flag"}


def test_unknown_ids_are_refused_with_a_suggestion(heat):
    with pytest.raises(UnknownIdError, match="did you mean 'heat_exhaustion'"):
        heat.how("heat_exhaustio")
    with pytest.raises(UnknownIdError, match="unknown observation"):
        heat.why("nothing")
