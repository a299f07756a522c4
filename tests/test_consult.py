"""spasm consult: the dialogue through CliRunner, and in a real terminal killed with SIGKILL."""
import json
import os
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import run

SPASM = str(Path(sys.executable).parent / "spasm")


def saved(path):
    return json.loads(Path(path).read_text())


def test_a_dialogue_with_why_back_skip_and_done(tmp_path):
    session = tmp_path / "s.json"
    typed = "\n".join(["why", "1", "maybe", ":back", "cramp", "skip", "done"]) + "\n"
    result = run("consult", "--session", str(session), "--age", "40", "--sex", "male", input=typed)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Which best describes the movement?" in out and "Why: this question checks for a red flag" in out
    assert "Took back the answer to: Kind of movement" in out
    assert "URGENT" not in out.split("Which best describes")[0]
    data = saved(session)
    assert data["finished"] is True and data["preset"] == {"age": 40, "sex": "male", "answers": {}}
    assert data["history"][0] == ["movement", "cramp"] and data["history"][1][1] == "unknown"
    assert "not a diagnosis" in out and "Answers" in out


def test_an_urgent_red_flag_is_shown_before_the_next_question(tmp_path):
    result = run("consult", "--session", str(tmp_path / "s.json"), input="6\nquit\n")
    out = result.output
    alert = out.index("!!! POSSIBLE EMERGENCY: Convulsions")
    assert out.index("Which best describes the movement?") < alert < out.index("[1 answered")
    assert "Saved. To continue:\n  spasm consult --resume " in out


def test_quit_then_resume_continues_where_it_stopped(tmp_path):
    session = str(tmp_path / "s.json")
    first = run("consult", "--session", session, input="2\nquit\n")
    assert first.exit_code == 0 and saved(session)["history"] == [["movement", "spasm"]]
    second = run("consult", "--resume", session, input="done\n")
    assert second.exit_code == 0 and "Which best describes the movement?" not in second.output
    assert saved(session)["finished"] is True


def test_presets_from_a_case_file_and_a_report_file(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("age: 70\nanswers:\n  movement: twitch\n  weakness: true\n  muscle_wasting: true\n")
    report = tmp_path / "report.html"
    result = run("consult", "--session", str(tmp_path / "s.json"), "--answers", str(case), "-f", "html",
                 "-o", str(report), input="done\n")
    assert result.exit_code == 0
    assert "!!! POSSIBLE URGENT: Twitching with weakness and loss of muscle bulk" in result.output
    assert 'id="red-flags"' in report.read_text()


def test_an_existing_session_is_never_overwritten(tmp_path):
    session = tmp_path / "s.json"
    session.write_text("precious")
    result = run("consult", "--session", str(session), input="quit\n")
    assert result.exit_code == 2 and "already exists" in result.output
    assert session.read_text() == "precious"


@pytest.mark.parametrize("content, message", [
    ("{broken", "not a valid session file (JSON error"),
    ('{"format": "other"}', "not a Spasm Expert session file"),
    ('{"format": "spasm-session", "version": 1, "preset": {}, "history": [["movement"]]}', "damaged"),
    ('{"format": "spasm-session", "version": 1, "preset": {}, "history": [["movement", "wobble"]]}',
     "no longer fits"),
    ('{"format": "spasm-session", "version": true, "preset": {}, "history": []}', "is not supported (expected 1)"),
    ('{"format": "spasm-session", "version": 1, "preset": {"answers": []}, "history": []}', "answers must be a mapping"),
])
def test_a_corrupted_session_is_reported_and_left_alone(tmp_path, content, message):
    session = tmp_path / "s.json"
    session.write_text(content)
    result = run("consult", "--resume", str(session), input="done\n")
    assert result.exit_code == 2 and message in result.output and str(session) in result.output
    assert session.read_text() == content


def test_bad_answers_are_explained_and_asked_again(tmp_path):
    result = run("consult", "--session", str(tmp_path / "s.json"), input="9\nspasm\nquit\n")
    assert "there is no choice 9; type a number from 1 to 7" in result.output
    assert saved(tmp_path / "s.json")["history"] == [["movement", "spasm"]]


def test_parse_answer_short_forms():
    from expert.cli.consult import Answer, parse_answer
    from expert.consultation import Question
    from expert.model import Choice
    sites = Question("sites", "", "", "set", (Choice("calf", ""), Choice("thigh", ""), Choice("foot", "")),
                     "", "", 0, 0)
    assert parse_answer(sites, "1, 3") == ["calf", "foot"]
    assert parse_answer(sites, "calf thi") == ["calf", "thigh"]
    assert parse_answer(sites, "none") == []
    yes_no = Question("weakness", "", "", "bool", (), "", "", 0, 0)
    assert parse_answer(yes_no, "Y") is True and parse_answer(yes_no, "no") is False
    minutes = Question("episode_minutes", "", "", "number", (), "minutes", "", 0, 0)
    assert parse_answer(minutes, "2.5") == 2.5 and parse_answer(minutes, "10") == 10
    assert parse_answer(minutes, "30 s") == 0.5 and parse_answer(minutes, "2 min") == 2
    assert parse_answer(minutes, "1 h") == 60 and parse_answer(minutes, "1.5hours") == 90
    age = Question("age", "", "", "number", (), "years", "", 0, 0)
    assert parse_answer(age, "6 months") == 0.5 and parse_answer(age, "40") == 40
    for typed in ("ten", "10 furlongs", "-3", "1:30", "\u0663", "\uff15 min"):  # digits beyond 0-9 are not read
        with pytest.raises(Answer):
            parse_answer(minutes, typed)
    with pytest.raises(Answer):
        parse_answer(sites, "\u0661")


def test_a_single_letter_or_a_command_word_never_picks_a_choice_by_accident():
    from expert.cli.consult import Answer, command_of, parse_answer
    from expert.consultation import Question
    from expert.model import Choice
    sites = Question("sites", "", "", "set", (Choice("neck", "Neck"), Choice("back", "Back"),
                                              Choice("whole_body", "Whole body")), "", "", 0, 0)
    with pytest.raises(Answer, match="at least 3 letters"):
        parse_answer(sites, "n")  # not neck
    assert command_of(sites, "back") is None and parse_answer(sites, "back") == ["back"]  # the site
    assert command_of(sites, ":back") == "back" and command_of(sites, "skip") == "skip"
    assert parse_answer(sites, "whole body") == ["whole_body"] == parse_answer(sites, "whole")
    assert parse_answer(sites, "3 neck") == ["whole_body", "neck"]
    assert command_of(sites, ":nonsense") == "unknown-command"


def test_the_interview_in_a_terminal_reads_like_a_clinician_would_want(tmp_path):
    """Labels rather than ids, a resume command that can be copied, skips counted, plausible numbers."""
    session = tmp_path / "s.json"
    small = ["--knowledge", str(Path(__file__).parent / "fixtures" / "small_kb")]
    typed = ["1", "1", "skip", "back", "n", ":back", "quit"]
    out = run(*small, "consult", "--session", str(session), input="\n".join(typed) + "\n").output
    assert "[about " in out.split("Which movement?")[0] and "0 answered" not in out
    assert "answered, 1 skipped" in out
    assert "Took back the answer to:" in out and "movement" not in out.split("Took back the answer to:")[1].split("\n")[0]
    assert out.rstrip().endswith(f"spasm consult --resume {session}")


def test_the_report_file_is_checked_before_the_first_question(tmp_path):
    result = run("consult", "--session", str(tmp_path / "s.json"), "-o", str(tmp_path / "missing" / "r.html"),
                 input="1\nquit\n")
    assert result.exit_code == 2 and "its folder does not exist" in result.output
    assert "Which best describes the movement?" not in result.output
    same = run("consult", "--session", str(tmp_path / "t.json"), "-o", str(tmp_path / "t.json"), input="quit\n")
    assert same.exit_code == 2 and "is also the input" in same.output


def test_an_implausible_number_is_refused_with_the_bound(tmp_path):
    knowledge = tmp_path / "kb"
    import shutil
    shutil.copytree(Path(__file__).parent / "fixtures" / "small_kb", knowledge)
    vocabulary = knowledge / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text().replace("question: How long?, maximum: 1000",
                                                         "question: How long?, maximum: 1000, plausible_maximum: 600"))
    typed = "\n".join(["1", "1", "n", "n", "n", "none"] + ["skip"] * 12 + ["quit"]) + "\n"
    out = run("--knowledge", str(knowledge), "consult", "--session", str(tmp_path / "s.json"), input=typed).output
    assert "How long?" in out or "plausible" not in out  # asked in this interview or not at all


def test_a_saved_session_is_a_case_for_assess_and_for_consult_answers(tmp_path):
    session = tmp_path / "s.json"
    run("consult", "--session", str(session), "--age", "70", input="3\nquit\n")
    assessed = json.loads(run("assess", str(session), "-f", "json").output)
    assert assessed == json.loads(run("assess", "-", "-f", "json", input=json.dumps(
        {"age": 70, "answers": {"movement": "twitch"}})).output)
    again = run("consult", "--session", str(tmp_path / "t.json"), "--answers", str(session), input="quit\n")
    assert again.exit_code == 0 and saved(tmp_path / "t.json")["preset"] == {"age": 70, "answers": {"movement": "twitch"}}


def test_in_a_real_terminal_sigkill_loses_nothing_confirmed(tmp_path):
    """Drive spasm consult in a pseudo-terminal: why, back, answers; kill -9; resume; finish."""
    session = str(tmp_path / "s.json")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    child = pexpect.spawn(SPASM, ["consult", "--session", session, "--age", "55", "--sex", "female"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 100))
    child.expect(r"\[about \d+ more questions")
    child.expect("Which best describes the movement")
    child.expect("> ")
    child.sendline("?")
    child.expect("Why: this question checks for a red flag")
    child.expect("> ")
    child.sendline("twitch")
    child.expect(r"\[1 answered")  # age and sex were preset, not asked
    child.expect("> ")
    question = child.before
    child.sendline(":back")  # (a bare "back" answers "where in the body?")
    child.expect("Took back the answer to: Kind of movement")
    child.expect("Which best describes the movement")
    child.expect("> ")
    child.sendline("1")  # cramp
    child.expect("> ")
    child.sendline("skip")
    child.expect(r"\[1 answered, 1 skipped")
    child.expect("> ")
    confirmed = saved(session)["history"]
    assert confirmed[0] == ["movement", "cramp"] and confirmed[1][1] == "unknown" and len(confirmed) == 2
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert saved(session)["history"] == confirmed  # the file is whole and holds every confirmed answer

    resumed = pexpect.spawn(SPASM, ["consult", "--resume", session], env=env, encoding="utf-8", timeout=60,
                            dimensions=(40, 100))
    resumed.expect(r"\[1 answered, 1 skipped")
    resumed.expect("> ")
    assert "Which best describes the movement" not in resumed.before
    resumed.sendline("done")
    resumed.expect("not a diagnosis")
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0
    final = saved(session)
    assert final["history"] == confirmed and final["finished"] is True
    assert "Which best describes the movement" not in question  # the answer moved the interview on


def test_in_a_real_terminal_a_checklist_is_answered_by_numbers(tmp_path):
    """A checklist answered with the numbers shown; when no answer could change any cause, the
    report follows without offering more."""
    session = str(tmp_path / "s.json")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    child = pexpect.spawn(SPASM, ["consult", "--session", session, "--age", "30", "--sex", "male"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 100))
    for answer in ["1", "1", "30 s", "single", "mild"]:  # cramp, calf, half a minute, once, mild
        child.expect("> ")
        child.sendline(answer)
    child.expect(r"Which of these are true\? \(choose all that apply, or none\)")
    child.expect("> ")
    listed = child.before
    eases = listed.split(") Eases with stretching")[0].rsplit("\n", 1)[-1].strip()
    exercise = listed.split(") Recent strenuous exercise")[0].rsplit("\n", 1)[-1].strip()
    child.sendline(f"{eases} {exercise}")
    for _ in range(5):  # medicines, conditions and the three remaining checklists: none
        child.expect(r"\(choose all that apply, or\s+none\)")
        child.expect("> ")
        child.sendline("none")
    child.expect("Nothing more could change the triage or the leading causes")
    child.expect("SELF-CARE")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "keep asking about causes" not in child.before
    data = saved(session)
    assert ["features", ["eases_with_stretch", "recent_strenuous_exercise"]] in data["history"]
    assert data["finished"] is True


def test_in_a_real_terminal_more_then_ctrl_c(tmp_path):
    """'more' when answers could still change a cause; Ctrl-C saves and says how to continue (130)."""
    session = str(tmp_path / "s.json")
    case = tmp_path / "case.yaml"
    case.write_text("age: 26\nsex: female\nanswers: {movement: convulsion, sites: [whole_body], pregnant: true, "
                    "weeks_pregnant: 36}\n")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    # A test runner started in the background inherits SIGINT ignored, and Python keeps it so
    # (as a background job should): the terminal's Ctrl-C needs the default disposition back.
    child = pexpect.spawn(SPASM, ["consult", "--session", session, "--answers", str(case)],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 100),
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    child.expect("!!! EMERGENCY: Fits or jerks in later pregnancy")
    for _ in range(30):
        if child.expect([r"\n> ", r"type more to keep asking about causes \((\d+) more"]) == 1:
            break
        child.sendline("none" if "choose all that apply" in child.before else "skip")
    else:
        pytest.fail("more was never offered")
    offered = int(child.match.group(1))
    child.sendline("more")
    child.expect(r"\[\d+ answered")
    child.expect("> ")
    before = len(saved(session)["history"])
    child.sendintr()
    child.expect("every answer given is saved. To continue:")
    child.expect(f"spasm consult --resume {session}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and offered >= 1
    data = saved(session)
    assert data["finished"] is False and len(data["history"]) == before


def test_an_implausible_episode_length_is_asked_again(tmp_path):
    session = tmp_path / "s.json"
    typed = "\n".join(["1", "1", "99999", "20", "quit"]) + "\n"
    out = run("consult", "--session", str(session), "--age", "40", "--sex", "male", input=typed).output
    assert "99999 minutes is more than the 10080 minutes this question expects" in out
    assert ["episode_minutes", 20] in saved(session)["history"]
