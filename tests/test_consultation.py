"""Step-by-step consultations: adaptive questions, answers, undo, skip, independence."""
import threading

import pytest

import expert
from expert import CaseError, UnknownIdError


def test_the_first_question_is_the_one_that_could_find_an_emergency(small):
    consultation = expert.Consultation(small)
    question = consultation.next_question()
    assert question.id == "movement"
    assert "red flag: Convulsion (emergency)" in question.reason
    assert [c.id for c in question.choices] == ["cramp", "twitch", "convulsion"]
    assert question.answered == 0 and question.remaining == len(consultation.assessment().unanswered)


def test_answers_change_what_is_asked_next(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "convulsion")
    assert consultation.assessment().triage.level == "emergency"
    asked = consultation.next_question().id
    # at emergency nothing can raise the triage: only questions about causes are left
    assert all(r.kind == "evidence" for r in consultation.why(asked).rules)


def test_pregnancy_is_not_asked_of_a_man(small):
    consultation = expert.Consultation(small, sex="male")
    consultation.answer("movement", "cramp")
    assert "pregnant" not in consultation.assessment().unanswered
    assert "pregnant" in expert.Consultation(small, sex="female").assessment().unanswered


def test_a_question_waits_for_the_one_that_decides_whether_it_applies(small):
    unanswered = expert.Consultation(small).assessment().unanswered
    assert unanswered.index("sex") < unanswered.index("pregnant")


def test_the_interview_ends_when_nothing_can_change(small):
    consultation = expert.Consultation(small, age=40, sex="male")
    asked = []
    while (question := consultation.next_question()) is not None:
        asked.append(question.id)
        last = question.choices[-1].id if question.choices else 0
        consultation.answer(question.id, [last] if question.type == "set" else last)
        assert len(asked) < 20
    assert len(asked) == len(set(asked)), "no question is asked twice"
    assert consultation.assessment().unanswered == []


def test_undo_restores_the_previous_state_exactly(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "twitch")
    before = consultation.assessment().to_json()
    consultation.answer("weakness", True)
    consultation.answer("wasting", True)
    assert consultation.assessment().triage.level == "urgent"
    assert consultation.undo() == ("wasting", True)
    assert consultation.undo() == ("weakness", True)
    assert consultation.assessment().to_json() == before
    assert consultation.undo() == ("movement", "twitch")
    assert consultation.undo() is None


def test_skip_records_unknown_and_is_not_asked_again(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "unknown")
    assert consultation.next_question().id != "movement"
    assert consultation.to_case()["answers"] == {"movement": "unknown"}


def test_changing_an_answer_replaces_it(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "cramp")
    consultation.answer("movement", "convulsion")
    assert consultation.case().answers == {"movement": "convulsion"}
    assert consultation.undo() == ("movement", "convulsion")
    assert consultation.case().answers == {"movement": "cramp"}


def test_bad_answers_are_refused_without_losing_earlier_ones(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "cramp")
    with pytest.raises(CaseError, match="'knee' is not a value of sites"):
        consultation.answer("sites", ["knee"])
    with pytest.raises(UnknownIdError):
        consultation.answer("nothing", True)
    assert consultation.history == [("movement", "cramp")]


def test_presets_are_validated_and_kept(small):
    with pytest.raises(CaseError):
        expert.Consultation(small, age=500)
    consultation = expert.Consultation(small, age=70, sex="female", answers={"movement": "twitch"})
    assert consultation.to_case() == {"age": 70, "sex": "female", "answers": {"movement": "twitch"}}
    assert consultation.undo() is None


def test_consultations_in_threads_do_not_interfere(small):
    cases = [("convulsion", "emergency"), ("twitch", "self_care"), ("cramp", "self_care")]
    errors = []

    def run(movement, level):
        try:
            for _ in range(20):
                consultation = expert.Consultation(small)
                consultation.answer("movement", movement)
                assert consultation.assessment().triage.level == level
                assert small.assess({"answers": {"movement": movement}}).triage.level == level
        except AssertionError as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=case) for case in cases * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_the_default_expert_is_built_once():
    assert expert.default_expert() is expert.default_expert()
    consultation = expert.Consultation(age=30)
    assert consultation.next_question().id == "movement"


def test_a_question_asked_only_to_decide_another_says_so(small):
    consultation = expert.Consultation(small)
    consultation.answer("movement", "cramp")
    question = consultation.next_question()
    assert question.id == "dizzy" and question.reason == "decides whether to ask: Fainted"
    consultation.answer("dizzy", True)
    question = consultation.next_question()
    assert question.id == "fainted" and question.reason == "checks for a red flag: Fainted (emergency)"
    consultation.undo()
    consultation.answer("dizzy", False)
    assert "fainted" not in consultation.assessment().unanswered
