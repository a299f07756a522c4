"""Robustness: arbitrary input never crashes, broken knowledge is explained, batch memory is
bounded, and a consultation killed at any moment loses no confirmed answer."""
import json
import os
import random
import shutil
import signal
import sys
import time
import unicodedata
from pathlib import Path

import pexpect
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expert
from expert import CaseError, KnowledgeError, loader
from expert.batch import CHUNK, IN_FLIGHT_PER_JOB, assess_lines
from expert.documents import parse_text
from tests.conftest import run

EXPERT = expert.default_expert()
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SPASM = str(Path(sys.executable).parent / "spasm")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=30)
observation_ids = st.sampled_from(list(EXPERT.kb.observations) + ["unknown_thing", ""])


def field_exists(data, field: str) -> bool:
    """Whether a problem's field (``answers.sites``, ``agee``, or empty for the whole case) names data given."""
    if not field:
        return True
    if not isinstance(data, dict):
        return False
    for key in map(str, data):
        if field == key:
            return True
        if key == "answers" and field.startswith("answers.") and isinstance(data["answers"], dict):
            return field[len("answers."):] in map(str, data["answers"])
    return False


@FUZZ
@given(json_values)
def test_any_json_value_is_a_case_or_a_case_error(data):
    try:
        EXPERT.case(data)
    except CaseError as error:
        assert error.problems
        assert all(field_exists(data, p.field) for p in error.problems), error.problems


@FUZZ
@given(st.dictionaries(observation_ids, json_values, max_size=6), st.dictionaries(st.sampled_from(
    ["age", "sex", "answers", "agee", "notes"]), json_values, max_size=3))
def test_cases_with_arbitrary_answers_name_each_bad_field(answers, top):
    data = {**top, "answers": answers}
    try:
        case = EXPERT.case(data)
    except CaseError as error:
        for problem in error.problems:
            assert field_exists(data, problem.field), problem
            assert problem.hint or "unknown" in problem.message or "must be" in problem.message
    else:
        assert EXPERT.assess(case).triage.level in expert.TRIAGE_LEVELS


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_as_a_case_file_exits_0_or_2_never_1(text):
    result = run("assess", "-", "--format", "json", input=text)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("spasm: ")


@FUZZ
@given(st.text(max_size=300))
def test_the_document_reader_never_raises_anything_but_an_input_error(text):
    try:
        parse_text(text, "case.yaml", CaseError)
    except CaseError as error:
        assert error.problems and all(p.file == "case.yaml" for p in error.problems)


# ------------------------------------------------------------------------ broken knowledge
MUTATIONS = ("delete_line", "duplicate_line", "replace_char", "truncate", "swap_lines")


def mutate(directory: Path, rng: random.Random) -> str:
    files = sorted(directory.glob("*.yaml"))
    path = rng.choice(files)
    lines = path.read_text().splitlines(keepends=True)
    if not lines:  # emptied by an earlier mutation: put some stray text in it
        path.write_text(rng.choice(["x\n", ":\n", "- [\n"]))
        return f"stray text in {path.name}"
    kind = rng.choice(MUTATIONS)
    index = rng.randrange(len(lines))
    if kind == "delete_line":
        del lines[index]
    elif kind == "duplicate_line":
        lines.insert(index, lines[index])
    elif kind == "replace_char" and lines[index].strip():
        column = rng.randrange(len(lines[index].rstrip("\n")) or 1)
        lines[index] = lines[index][:column] + rng.choice(":-[]{}#'\" x\t") + lines[index][column + 1:]
    elif kind == "truncate":
        lines = lines[:index]
    else:
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    path.write_text("".join(lines))
    return f"{kind} at {path.name}:{index + 1}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1))
def test_broken_knowledge_is_refused_with_file_and_line_never_a_crash(tmp_path, seed):
    rng = random.Random(seed)
    directory = tmp_path / f"kb-{seed}"
    shutil.rmtree(directory, ignore_errors=True)  # hypothesis may replay a seed
    shutil.copytree(KNOWLEDGE, directory, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    try:
        done = [mutate(directory, rng) for _ in range(rng.randint(1, 3))]
        loader.load(directory)
    except KnowledgeError as error:
        for problem in error.problems:
            assert problem.file, (done, problem)
            assert problem.line or Path(problem.file).is_dir() or "knowledge' section" in problem.message, \
                (done, problem)
    finally:
        shutil.rmtree(directory)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: (d / "manifest.yaml").unlink(), "exactly one file must have a 'knowledge' section"),
    (lambda d: (d / "findings.yaml").write_text("findings: [\n"), "findings.yaml:2: YAML syntax error"),
    (lambda d: replace_in(d / "red_flags.yaml", "level: emergency", "level: critical"),
     "unknown triage level 'critical'"),
    (lambda d: replace_in(d / "red_flags.yaml", "{finding: cramp_like", "{finding: cramp_lik"),
     "unknown finding 'cramp_lik' (did you mean 'cramp_like'?)"),
    (lambda d: [p.unlink() for p in d.glob("*.yaml")], "no .yaml files"),
    (lambda d: replace_in(d / "findings.yaml", "    label: Cramp or spasm of a muscle\n    when:\n      any:\n",
                          "    label: Cramp or spasm of a muscle\n    when:\n      any:\n"
                          "        - {finding: cramps_without_clear_trigger}\n"),
     "findings refer to each other in a cycle"),
])
def test_the_cli_explains_broken_knowledge_and_exits_2(tmp_path, breakage, expected):
    directory = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, directory, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    breakage(directory)
    result = run("--knowledge", str(directory), "kb", "lint")
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


# ----------------------------------------------------------------------------- batch memory
class CountingLines:
    def __init__(self, lines):
        self.lines, self.taken = lines, 0

    def __iter__(self):
        for line in self.lines:
            self.taken += 1
            yield line


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_reads_only_a_bounded_window_ahead_of_what_it_has_written(jobs):
    """Memory stays flat because input is read at most a fixed window ahead of the output
    (python -m bench measures the resident memory of a 100 MB run)."""
    line = json.dumps({"answers": {"movement": "cramp"}})
    source = CountingLines(line for _ in range(3000))
    window = 1 if jobs == 1 else jobs * IN_FLIGHT_PER_JOB * CHUNK
    for written, _ in enumerate(assess_lines(source, jobs=jobs), 1):
        assert source.taken - written <= window
        if written >= 2500:
            break


# ------------------------------------------------------------------------ sessions and kills
ANSWERS = ["1", "1", "skip", "1", "1", "skip", "1", "1", "1", "skip", "1", "1", "1"]  # valid for any question


@pytest.mark.parametrize("seed", range(6))
def test_a_consultation_killed_at_a_random_moment_resumes_with_every_confirmed_answer(tmp_path, seed):
    """Answers are typed quickly and the process is SIGKILLed at a random moment; the session
    file must be whole and hold every answer whose next question had appeared."""
    rng = random.Random(seed)
    session = tmp_path / "s.json"
    env = {**os.environ, "NO_COLOR": "1"}
    child = pexpect.spawn(SPASM, ["consult", "--session", str(session), "--age", "30", "--sex", "male"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(50, 120))
    child.expect("> ")
    confirmed = 0
    kill_after = rng.randint(1, len(ANSWERS))
    for n, answer in enumerate(ANSWERS, 1):
        child.sendline(answer)
        if n == kill_after:
            time.sleep(rng.choice([0, 0.001, 0.01, 0.05]))
            break
        child.expect("> ")
        confirmed = n
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    data = json.loads(session.read_text())  # always a whole file: written by rename
    history = data["history"]
    assert confirmed <= len(history) <= kill_after
    resumed = run("consult", "--resume", str(session), input="done\n")
    assert resumed.exit_code == 0 and json.loads(session.read_text())["history"] == history


# ------------------------------------------------------------------ hostile documents
def nested(depth: int, kinds: str) -> str:
    """A document ``depth`` lists or mappings deep, in flow or block style (``kinds`` picks each level)."""
    opening = "".join("[" if kinds[i % len(kinds)] == "[" else "{a: " for i in range(depth))
    closing = "".join("]" if kinds[i % len(kinds)] == "[" else "}" for i in reversed(range(depth)))
    return opening + "1" + closing


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20_000), st.text("[{", min_size=1, max_size=3), st.booleans())
def test_any_nesting_depth_is_read_or_refused_with_a_line_never_a_crash(depth, kinds, block):
    text = "- " * depth + "x\n" if block else "answers: " + nested(depth, kinds) + "\n"
    levels = depth if block else depth + 1  # answers: is a mapping too
    try:
        document = parse_text(text, "case.yaml", CaseError)
    except CaseError as error:
        assert levels > 100 and "nested more than 100 levels deep" in str(error) and error.problems[0].line == 1
    else:
        assert levels <= 100 and document.data


@settings(max_examples=40, deadline=None)
@given(st.text("0123456789", min_size=310, max_size=6000).map(lambda digits: "9" + digits),  # beyond any float
       st.sampled_from(["age: {}\n", "answers:\n  episode_minutes: {}\n", '{{"age": {}}}']))
def test_huge_integers_are_case_errors_never_overflow(digits, template):
    try:
        EXPERT.case(parse_text(template.format(digits), "case.yaml", CaseError))
    except CaseError as error:
        assert error.problems and len(str(error)) < 1000
    else:
        pytest.fail(f"a {len(digits)}-digit number was accepted")


yaml11_numbers = st.one_of(
    st.from_regex(r"\A[1-9][0-9]?:[0-5][0-9](:[0-5][0-9])?\Z"),  # sexagesimal 1:30
    st.from_regex(r"\A0[0-7]{1,3}\Z"), st.from_regex(r"\A0x[0-9A-Fa-f]{1,4}\Z"), st.from_regex(r"\A0o[0-7]{1,3}\Z"),
    st.from_regex(r"\A0b[01]{1,6}\Z"), st.from_regex(r"\A[1-9][0-9]{0,2}(_[0-9]{3}){1,2}\Z"),
    st.sampled_from([".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "2001-01-01", "1e", "1.2.3"]))


@FUZZ
@given(yaml11_numbers)
def test_yaml_1_1_number_forms_are_never_read_as_numbers(written):
    text = f"answers:\n  movement: cramp\n  episode_minutes: {written}\n"
    with pytest.raises(CaseError) as caught:
        EXPERT.case(parse_text(text, "case.yaml", CaseError))
    problem = caught.value.problems[0]
    assert problem.line == 3 and problem.field == "answers.episode_minutes" and repr(written) in problem.message


control_text = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf"]) | st.sampled_from("\x1b[]0;a"),
                       min_size=1, max_size=12)
DIRECTION = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@FUZZ
@given(control_text, control_text)
def test_escape_sequences_never_reach_the_terminal_raw(key, value):
    """Control characters (ESC starts every terminal escape) and direction overrides are escaped."""
    with pytest.raises(CaseError) as caught:
        EXPERT.case({key: value, "answers": {key: value, "movement": value}})
    text = str(caught.value)
    assert not [ch for ch in text if (unicodedata.category(ch) == "Cc" and ch != "\n") or ch in DIRECTION], text
