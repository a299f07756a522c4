"""Hostile input and a hostile environment: every case exits 0 or 2 (never a crash or a
traceback), names the file and field, and loses or overwrites nothing the user owns.

Anything that could crash the interpreter (deep nesting) runs in a subprocess, so that a
regression fails one test rather than the whole run. Everything is written under tmp_path.
"""
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pexpect
import pytest
import yaml

import expert
from expert import CaseError, KnowledgeError
from expert.documents import parse_json, parse_yaml
from tests.conftest import run
from tests.test_batch import generated_cases
from tests.test_cli import CASE

SPASM = str(Path(sys.executable).parent / "spasm")
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
DEEP = "answers: " + "[" * 30_000 + "]" * 30_000 + "\n"  # 60 KB that crashed libyaml's composer


def spasm(*args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([SPASM, *args], capture_output=True, timeout=timeout, **kwargs)


@pytest.fixture
def case_file(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(CASE))
    return path


@pytest.fixture
def cases(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(generated_cases(20)) + "\n")
    return path


def copy_knowledge(tmp_path) -> Path:
    directory = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, directory, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    return directory


def make_device(path: Path) -> Path:
    """A character device like /dev/null (1, 3), made under tmp_path; needs root."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


# ------------------------------------------------------------ 1. output over the input
@pytest.mark.parametrize("how", ["same path", "symlink", "stdin"])
def test_batch_refuses_to_write_its_results_over_its_input(cases, tmp_path, how):
    before = cases.read_bytes()
    if how == "stdin":
        with open(cases, "rb") as stdin:
            done = spasm("batch", "-", "-o", str(cases), stdin=stdin)
    else:
        source = cases
        if how == "symlink":
            source = tmp_path / "link.jsonl"
            source.symlink_to(cases)
        done = spasm("batch", str(source), "-o", str(cases))
    assert done.returncode == 2, done.stderr
    assert b"is also the input" in done.stderr and str(cases).encode() in done.stderr
    assert cases.read_bytes() == before


def test_batch_appending_to_its_own_input_on_stdout_is_refused(cases):
    before = cases.read_bytes()
    with open(cases, "ab") as stdout:
        done = subprocess.run([SPASM, "batch", str(cases)], stdout=stdout, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 2 and b"<stdout>: is also the input" in done.stderr
    assert cases.read_bytes() == before


def test_a_batch_that_fails_midway_leaves_the_old_output_whole(cases, tmp_path, monkeypatch):
    from expert.batch import Result
    output = tmp_path / "out.jsonl"
    output.write_text("previous results\n")

    def failing(lines, *args, **kwargs):
        for number, _ in enumerate(lines, 1):
            if number == 5:
                raise RuntimeError("boom")
            yield Result(number, "{}", "routine")
    monkeypatch.setattr("expert.batch.assess_lines", failing)
    result = run("batch", str(cases), "-o", str(output))
    assert result.exit_code == 1
    assert output.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary file left


# ------------------------------------------------------------ 2. -o on devices and FIFOs
OUTPUT_COMMANDS = {
    "assess": lambda case, out: ["assess", case, "-o", out],
    "consult": lambda case, out: ["consult", "--answers", case, "--session", out + ".session", "-o", out],
    "kb graph": lambda case, out: ["kb", "graph", "-o", out],
    "kb coverage": lambda case, out: ["kb", "coverage", "-o", out],
    "batch": lambda case, out: ["batch", case, "-o", out],
}


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_output_to_a_character_device_writes_to_it_and_leaves_it_a_device(tmp_path, case_file, cases, command):
    device = make_device(tmp_path / "null.dot")
    source = str(cases) if command == "batch" else str(case_file)
    result = run(*OUTPUT_COMMANDS[command](source, str(device)), input="done\n")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(device).st_mode)


@pytest.mark.parametrize("command", ["assess", "batch"])
def test_output_to_a_fifo_is_streamed_into_it(tmp_path, case_file, cases, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    source = str(cases) if command == "batch" else str(case_file)
    result = run(*OUTPUT_COMMANDS[command](source, str(fifo)))
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and (b"URGENT" in received[0] if command == "assess" else received[0].count(b"\n") == 20)


def test_a_replaced_output_file_keeps_its_permissions_and_a_new_one_follows_the_umask(tmp_path, case_file):
    kept = tmp_path / "report.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    assert run("assess", str(case_file), "-o", str(kept)).exit_code == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and "URGENT" in kept.read_text()
    umask = os.umask(0o022)
    try:
        assert run("assess", str(case_file), "-o", str(tmp_path / "new.txt")).exit_code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


def test_output_through_a_symlink_writes_the_file_it_points_to(tmp_path, case_file):
    target = tmp_path / "report.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert run("assess", str(case_file), "-o", str(link)).exit_code == 0
    assert link.is_symlink() and "URGENT" in target.read_text()


def test_assess_refuses_to_write_the_report_over_the_case(case_file):
    before = case_file.read_text()
    result = run("assess", str(case_file), "-o", str(case_file))
    assert result.exit_code == 2 and "is also the input" in result.output
    assert case_file.read_text() == before


# ------------------------------------------------------------ 3. nesting depth
NESTED_RUNS = {
    "cli": [SPASM, "assess", "{path}"],
    "api": [sys.executable, "-c", "import expert, sys\ntry:\n    expert.assess(sys.argv[1])\n"
            "except expert.CaseError as e:\n    print(e, file=sys.stderr); sys.exit(2)", "{path}"],
    "knowledge": [sys.executable, "-c", "import expert, sys\ntry:\n    expert.Expert.from_directory(sys.argv[1])\n"
                  "except expert.KnowledgeError as e:\n    print(e, file=sys.stderr); sys.exit(2)", "{dir}"],
}


@pytest.mark.parametrize("where", sorted(NESTED_RUNS))
def test_deeply_nested_yaml_is_refused_with_file_and_line_not_a_crash(tmp_path, where):
    directory = copy_knowledge(tmp_path)
    path = directory / "deep.yaml" if where == "knowledge" else tmp_path / "deep.yaml"
    path.write_text("# a comment\n" + DEEP)
    command = [part.format(path=path, dir=directory) for part in NESTED_RUNS[where]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert f"{path}:2: lists and mappings are nested more than 100 levels deep" in done.stderr


@pytest.mark.parametrize("text", ["- " * 20_000 + "x\n", "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),
                                  "{a: " * 20_000 + "1" + "}" * 20_000])
def test_block_and_flow_nesting_are_both_bounded(text):
    with pytest.raises(CaseError, match="nested more than 100 levels"):
        parse_yaml(text, "case.yaml", CaseError)


def test_nesting_within_the_limit_is_read():
    assert parse_yaml("a: " + "[" * 99 + "1" + "]" * 99).data["a"] is not None
    assert parse_json("[" * 100 + "]" * 100).data == parse_yaml("[" * 100 + "]" * 100).data


def test_a_recursive_alias_is_refused():
    with pytest.raises(CaseError, match="nested more than"):
        parse_yaml("a: &a [*a]\n", error=CaseError)


def test_deeply_nested_json_is_refused_with_its_line_and_brackets_in_strings_do_not_count():
    with pytest.raises(CaseError, match=r"case.json:2: lists and mappings are nested"):
        parse_json('{"answers":\n' + "[" * 100_000 + "]" * 100_000 + "}", "case.json", CaseError)
    assert parse_json(json.dumps({"a": "[" * 1000})).data == {"a": "[" * 1000}


# ------------------------------------------------------------ 4. one bad line, one error record
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_huge_integers_in_batch_lines_become_error_records_and_the_run_goes_on(tmp_path, jobs):
    good = generated_cases(3)
    lines = [good[0], '{"age": ' + "9" * 400 + "}", '{"age": ' + "9" * 5000 + "}",
             '{"answers": {"episode_minutes": 1e400}}', good[1], "[" * 5000 + "]" * 5000, good[2]]
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = run("batch", str(source), "-o", str(output), "--jobs", jobs)
    assert result.exit_code == 2, result.output
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r.get("line") for r in records] == [None, 2, 3, 4, None, 6, None]
    assert "out of range for age" in records[1]["error"]["message"]
    assert "5,000 digits is too large" in records[2]["error"]["message"]
    assert "'1e400' is too large" in records[3]["error"]["message"]
    assert "nested more than" in records[5]["error"]["message"]
    assert records[4] == expert.assess(json.loads(good[1])).to_dict()


def test_a_bug_on_one_line_is_an_internal_error_record_and_exit_1(cases, tmp_path, monkeypatch):
    real = expert.Expert.assess

    def sometimes_broken(self, source, *args, **kwargs):
        if source.data.get("age") == 13:
            raise RuntimeError("boom")
        return real(self, source, *args, **kwargs)
    lines = generated_cases(3) + ['{"age": 13}']
    cases.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(expert.Expert, "assess", sometimes_broken)
    result = run("batch", str(cases), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1 and "please report it" in result.output
    records = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(records) == 4 and "internal error: RuntimeError: boom" in json.loads(records[3])["error"]["message"]


# ------------------------------------------------------------ 5. bad input is exit 2, not a bug
def test_a_yaml_date_is_a_string_everywhere(tmp_path, kb_copy):
    case = tmp_path / "case.yaml"
    case.write_text("answers:\n  movement: 2001-13-45\n")
    result = run("assess", str(case))
    assert result.exit_code == 2 and f"{case}:2: answers.movement: '2001-13-45' is not a value of movement" \
        in result.output
    consult = run("consult", "--answers", str(case), "--session", str(tmp_path / "s.json"), input="quit\n")
    assert consult.exit_code == 2 and "'2001-13-45' is not a value of movement" in consult.output
    directory = kb_copy("rules.yaml", "label: Long cramp", "label: 2001-13-45")
    assert expert.Expert.from_directory(directory).kb.findings  # a label that looks like a date is text


def test_a_huge_age_is_a_case_error_not_an_overflow():
    with pytest.raises(CaseError, match="about 401 digits is out of range for age"):
        expert.assess({"age": 10**400})
    with pytest.raises(CaseError, match="out of range"):
        expert.assess({"answers": {"episode_minutes": 10**400}})  # no maximum: still must fit a float


def test_integers_beyond_pythons_digit_limit_are_refused_with_the_line(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("age: 40\nanswers:\n  episode_minutes: " + "7" * 5000 + "\n")
    result = run("assess", str(case))
    assert result.exit_code == 2 and f"{case}:3: answers.episode_minutes: a number of 5,000 digits is too large" \
        in result.output


def test_a_session_nested_100000_deep_is_refused(tmp_path):
    session = tmp_path / "s.json"
    session.write_text('{"format": "spasm-session", "version": 1, "preset": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = run("consult", "--resume", str(session), input="done\n")
    assert result.exit_code == 2 and f"{session}:1: not a valid session file" in result.output
    assert "nested more than 100" in result.output


def test_batch_of_a_missing_file_names_it(tmp_path):
    result = run("batch", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2 and f"{tmp_path / 'missing.jsonl'}: file not found" in result.output


@pytest.mark.parametrize("target, message", [("missing/x.jsonl", "No such file or directory"),
                                             ("", "is a directory"), ("afile/x.jsonl", "Not a directory")])
def test_batch_output_that_cannot_be_written_exits_2_naming_it(cases, tmp_path, target, message):
    (tmp_path / "afile").write_text("")
    result = run("batch", str(cases), "-o", str(tmp_path / target))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_batch_to_a_full_device_exits_2():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    result = run("batch", "-", "-o", "/dev/full", input="\n".join(generated_cases(300)) + "\n")
    assert result.exit_code == 2 and "/dev/full: cannot write: No space left on device" in result.output


def test_a_full_disk_while_replacing_a_file_keeps_the_old_one(cases, tmp_path, monkeypatch):
    output = tmp_path / "out.jsonl"
    output.write_text("previous\n")

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr("expert.cli.output.os.fsync", full)
    result = run("batch", str(cases), "-o", str(output))
    assert result.exit_code == 2 and f"{output}: cannot write: No space left on device" in result.output
    assert output.read_text() == "previous\n" and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


@pytest.mark.parametrize("where", ["missing/s.json", "afile/s.json"])
def test_a_session_path_that_cannot_be_written_exits_2_before_any_question(tmp_path, where):
    (tmp_path / "afile").write_text("")
    result = run("consult", "--session", str(tmp_path / where), input="1\nquit\n")
    assert result.exit_code == 2, result.output
    assert str(tmp_path / where) in result.output and "Which best describes" not in result.output


# ------------------------------------------------------------ 6. YAML 1.1 number forms
@pytest.mark.parametrize("written", ["1:30", "017", "0x1F", "0o17", "1_000", "0b101", ".inf", "-.inf", ".nan",
                                     "1,000", "twelve"])
def test_only_plain_decimal_numbers_are_numbers(tmp_path, written):
    case = tmp_path / "case.yaml"
    case.write_text(f"answers:\n  movement: cramp\n  episode_minutes: {written}\n")
    result = run("assess", str(case))
    assert result.exit_code == 2, result.output
    assert f"{case}:3: answers.episode_minutes: {written!r} is not a number" in result.output


@pytest.mark.parametrize("written, value", [("90", 90), ("1.5", 1.5), ("2e1", 20.0), ("0", 0), ("0.25", 0.25),
                                            ("+3", 3)])
def test_plain_decimal_numbers_are_read(written, value):
    data = parse_yaml(f"n: {written}\n").data["n"]
    assert data == value and type(data) is type(value)


def test_knowledge_files_read_numbers_the_same_way(kb_copy):
    directory = kb_copy("vocabulary.yaml", "maximum: 120", "maximum: 0x1F")
    with pytest.raises(KnowledgeError, match=r"maximum: expected a number from 0 to 1e\+09, got '0x1F'"):
        expert.Expert.from_directory(directory)


@pytest.mark.parametrize("written, value", [("true", True), ("False", False), ("yes", True), ("NO", False)])
def test_true_false_yes_and_no_are_booleans(written, value):
    assert parse_yaml(f"b: {written}\n").data["b"] is value


@pytest.mark.parametrize("written", ["on", "off", "y", "n"])
def test_on_off_y_and_n_are_words(tmp_path, written):
    assert parse_yaml(f"b: {written}\n").data["b"] == written
    with pytest.raises(CaseError, match=f"'{written}' is not a valid answer for weakness"):
        expert.assess(parse_yaml(f"answers:\n  weakness: {written}\n", error=CaseError))


# ------------------------------------------------------------ 7. SIGTERM and orphaned workers
def descendants(pid: int) -> list[int]:
    """Processes started by ``pid``, at any depth, read from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def big_input(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(generated_cases(3000, seed=9)) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL])
def test_a_signalled_batch_leaves_no_worker_and_ends_its_pipeline(big_input, sent):
    batch = subprocess.Popen([SPASM, "batch", str(big_input), "--jobs", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, bufsize=0)
    try:
        first = batch.stdout.readline()
        workers = descendants(batch.pid)
        assert len(workers) >= 2
        batch.send_signal(sent)
        rest, errors = batch.communicate(timeout=30)  # ends only when nothing holds the pipe open
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if running(pid)]
        if sent == signal.SIGTERM:  # (SIGKILL cannot be handled: a line may be cut there)
            assert batch.returncode == 143 and errors == b"Terminated.\n"
            lines = (first + rest).decode().split("\n")
            assert lines[-1] == "" and all(json.loads(line)["triage"] for line in lines[:-1])  # complete lines
            assert len(lines) - 1 < 3000
    finally:  # never wait for the pipes: an orphaned worker could hold them open
        batch.kill()
        batch.wait()
        batch.stdout.close()
        batch.stderr.close()


# ------------------------------------------------------------ 8. one consultation per session file
def test_a_second_consultation_on_the_same_session_is_refused(tmp_path):
    session = tmp_path / "s.json"
    assert run("consult", "--session", str(session), input="2\nquit\n").exit_code == 0
    link = tmp_path / "link.json"
    link.symlink_to(session)
    first = pexpect.spawn(SPASM, ["consult", "--resume", str(session)], env={**os.environ, "NO_COLOR": "1"},
                          encoding="utf-8", timeout=60)
    try:
        first.expect("> ")
        for path in (session, link):
            second = run("consult", "--resume", str(path), input="1\ndone\n")
            assert second.exit_code == 2
            assert f"{path}: is in use by another consultation" in second.output
        first.sendline("1")
        first.expect("> ")
        first.sendline("quit")
        first.expect(pexpect.EOF)
    finally:
        first.close(force=True)
    assert len(json.loads(session.read_text())["history"]) == 2
    assert run("consult", "--resume", str(session), input="quit\n").exit_code == 0  # free again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "s.json"]  # no lock file left


# ------------------------------------------------------------ 9. a full disk during a consultation
def full_disk_on(monkeypatch, failing_calls) -> None:
    """Make the n-th flush of a written file to disk fail with ENOSPC, for n in ``failing_calls``."""
    calls = []

    def fsync(descriptor):
        calls.append(descriptor)
        if len(calls) in failing_calls:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(descriptor)
    real = os.fsync
    monkeypatch.setattr("expert.cli.output.os.fsync", fsync)


def test_a_full_disk_during_a_consultation_keeps_the_answers_and_the_interview(tmp_path, monkeypatch):
    session = tmp_path / "s.json"
    full_disk_on(monkeypatch, {2})  # the first save (before any question) works; the first answer's fails
    result = run("consult", "--session", str(session), input="2\n1\nquit\n")
    assert result.exit_code == 0, result.output
    said = "".join(result.output.split())  # the interview wraps its lines, even within a path

    def says(text):
        return "".join(text.split()) in said
    assert says(f"Could not save the answers: {session}: cannot write: No space left on device")
    assert f"\n  spasm consult --resume {session}\n" in result.output  # whole, on its own line: it can be copied
    assert says("To continue from those later:") and says("Saved. To continue:")
    assert len(json.loads(session.read_text())["history"]) == 2  # the unsaved answer was saved with the next


def test_quitting_when_the_answers_cannot_be_saved_exits_2(tmp_path, monkeypatch):
    session = tmp_path / "s.json"
    full_disk_on(monkeypatch, {2, 3})
    result = run("consult", "--session", str(session), input="2\nquit\n")
    assert result.exit_code == 2 and "Could not save the answers" in result.output and "Saved." not in result.output
    assert json.loads(session.read_text())["history"] == []  # the last whole version is kept


# ------------------------------------------------------------ 10. bad knowledge with workers
def test_a_missing_knowledge_directory_with_workers_is_one_clean_error(cases):
    result = run("--knowledge", "/nonexistent", "batch", str(cases), "--jobs", "2")
    assert result.exit_code == 2
    assert result.output == "spasm: /nonexistent: knowledge directory not found\n"


# ------------------------------------------------------------ 11. escape sequences
ESCAPE = "\x1b]0;pwned\x07\x1b[2J"


def test_escape_sequences_in_a_case_are_shown_escaped(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {ESCAPE: 1, "movement": ESCAPE}}))
    result = run("assess", str(case))
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "answers.\\x1b]0;pwned\\x07\\x1b[2J: unknown observation" in result.output


def test_escape_sequences_keep_their_data_in_batch_records(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"answers": {ESCAPE: 1}}) + "\n")
    result = run("batch", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    record = json.loads((tmp_path / "out.jsonl").read_text())
    assert record["error"]["problems"][0]["field"] == "answers." + ESCAPE


def test_escape_sequences_in_a_session_file_are_shown_escaped(tmp_path):
    session = tmp_path / "s.json"
    session.write_text(json.dumps({"format": "spasm-session", "version": 1, "knowledge_version": ESCAPE,
                                   "preset": {}, "history": [], "finished": False}))
    result = run("consult", "--resume", str(session), input="quit\n")
    assert result.exit_code == 0 and "\x1b" not in result.output
    assert "saved with knowledge base \\x1b]0;pwned" in result.output
    session.write_text(json.dumps({"format": "spasm-session", "version": 1, "preset": {},
                                   "history": [[ESCAPE, "x"]], "finished": False}))
    result = run("consult", "--resume", str(session), input="quit\n")
    assert result.exit_code == 2 and "\x1b" not in result.output and "saved answer 1" in result.output


# ------------------------------------------------------------ 12. input size
def test_a_case_from_an_endless_device_stops_at_the_limit():
    result = run("assess", "/dev/zero")
    assert result.exit_code == 2
    assert result.output == ("spasm: /dev/zero: larger than 1,048,576 bytes (set SPASM_MAX_FILE_BYTES to a larger "
                             "number of bytes to read it)\n")


def test_an_endless_stdin_stops_at_the_limit():
    with open("/dev/zero", "rb") as endless:
        done = spasm("assess", "-", stdin=endless, timeout=60)
    assert done.returncode == 2 and b"<stdin>: larger than 1,048,576 bytes" in done.stderr


def test_the_file_limit_can_be_changed_and_a_bad_setting_is_explained(case_file, monkeypatch):
    monkeypatch.setenv("SPASM_MAX_FILE_BYTES", "10")
    result = run("assess", str(case_file))
    assert result.exit_code == 2 and "larger than 10 bytes" in result.output
    monkeypatch.setenv("SPASM_MAX_FILE_BYTES", "lots")
    result = run("assess", str(case_file))
    assert result.exit_code == 2 and "SPASM_MAX_FILE_BYTES must be a whole number of bytes" in result.output


def test_an_overlong_batch_line_is_skipped_as_an_error_record(tmp_path, monkeypatch):
    monkeypatch.setenv("SPASM_MAX_LINE_BYTES", "2000")
    good = generated_cases(2)
    source = tmp_path / "in.jsonl"
    source.write_text(good[0] + "\n" + '{"answers": {"movement": "' + "x" * 300_000 + '"}}\n' + good[1] + "\n")
    result = run("batch", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) == 3 and "triage" in records[0] and "triage" in records[2]
    assert records[1]["error"]["message"].startswith("line 2: longer than 2,000 bytes (300,029); skipped")


def test_bounded_lines_never_read_more_than_the_limit_at_once():
    from expert.batch import BoundedLines, TooLong

    class Stream:
        def __init__(self, data):
            self.data, self.largest = data, 0

        def readline(self, size):
            self.largest = max(self.largest, size)
            line_end = self.data.find(b"\n", 0, size)
            cut = line_end + 1 if line_end >= 0 else min(size, len(self.data))
            line, self.data = self.data[:cut], self.data[cut:]
            return line
    stream = Stream(b"ok\n" + b"y" * 1_000_000 + b"\nlast")
    lines = list(BoundedLines(stream, limit=100))
    assert lines == [b"ok\n", TooLong(1_000_000, 100), b"last"] and stream.largest <= BoundedLines.PIECE


def test_messages_quote_at_most_a_short_excerpt_of_a_value():
    with pytest.raises(CaseError) as caught:
        expert.assess({"answers": {"movement": "x" * 1_000_000, "y" * 10_000: True}})
    assert len(str(caught.value)) < 1000 and "…" in str(caught.value)


# ------------------------------------------------------------ 13. a closed pipe
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_reader_that_stops_early_ends_the_batch_quietly(big_input, jobs):
    batch = subprocess.Popen([SPASM, "batch", str(big_input), "--jobs", jobs], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert json.loads(batch.stdout.readline())["triage"]
        batch.stdout.close()  # like `| head -1`
        assert batch.wait(60) == 0
        assert batch.stderr.read() == b""  # no traceback, no "Exception ignored"
    finally:
        batch.kill()
        batch.wait()


# ------------------------------------------------------------ 15. smaller points
def test_resuming_through_a_symlink_keeps_the_link(tmp_path):
    session = tmp_path / "s.json"
    assert run("consult", "--session", str(session), input="2\nquit\n").exit_code == 0
    link = tmp_path / "link.json"
    link.symlink_to(session)
    assert run("consult", "--resume", str(link), input="1\nquit\n").exit_code == 0
    assert link.is_symlink() and len(json.loads(session.read_text())["history"]) == 2


def test_a_byte_order_mark_is_accepted_in_sessions_and_batch_lines(tmp_path):
    session = tmp_path / "s.json"
    assert run("consult", "--session", str(session), input="2\nquit\n").exit_code == 0
    session.write_bytes(b"\xef\xbb\xbf" + session.read_bytes())
    assert run("consult", "--resume", str(session), input="quit\n").exit_code == 0
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "\n".join(generated_cases(2)).encode() + b"\n")
    assert run("batch", str(source), "-o", str(tmp_path / "out.jsonl")).exit_code == 0


def test_an_empty_knowledge_path_is_refused(case_file):
    result = run("--knowledge", "", "assess", str(case_file))
    assert result.exit_code == 2 and "empty path" in result.output


@pytest.mark.parametrize("pain, site", [("moderat", "calff"), ("zzz", "zzz")])
def test_a_hint_lists_the_allowed_values_once(pain, site):
    with pytest.raises(CaseError) as caught:
        expert.assess({"answers": {"pain": pain, "sites": [site]}})
    hints = {problem.field: problem.hint for problem in caught.value.problems}
    assert hints["answers.pain"].count("allowed") == 1 and hints["answers.pain"].count("mild") == 1
    assert hints["answers.sites"].count("allowed") == 1 and hints["answers.sites"].count("thigh") == 1
    if pain == "moderat":
        assert hints["answers.pain"].startswith("did you mean 'moderate'? allowed: none, mild")


def test_the_knowledge_version_must_be_a_version(kb_copy):
    directory = kb_copy("manifest.yaml", "version: 0.1.0", "version: {a: 1}")
    with pytest.raises(KnowledgeError, match=r"version must be a version such as 1.2.0, got \{'a': 1\}"):
        expert.Expert.from_directory(directory)


def test_a_string_is_a_path_and_its_text_is_never_echoed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("\n".join(f"user{i}:x:{i}:{i}:password-{i}:/home/user{i}:/bin/sh" for i in range(200)))
    with pytest.raises(CaseError) as caught:
        expert.assess(str(secret))
    assert "a string is taken as the path of a case file" in str(caught.value)
    assert "password-1" not in str(caught.value)
    text = secret.read_text()
    with pytest.raises(CaseError) as caught:
        expert.assess(text)
    assert "a string is taken as the path of a case file" in str(caught.value) and len(str(caught.value)) < 400
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: 'x" + "password " * 10_000 + "\n")
    with pytest.raises(CaseError) as caught:
        expert.assess(str(broken))
    assert len(str(caught.value)) < 400


def test_knowledge_errors_are_located_and_printable(tmp_path):
    directory = copy_knowledge(tmp_path)
    (directory / "extra.yaml").write_text(f"sources:\n  - {{{json.dumps(ESCAPE)}: 1, id: x, title: t, publisher: p}}\n")
    result = run("--knowledge", str(directory), "kb", "lint")
    assert result.exit_code == 2 and "extra.yaml:2" in result.output and "\x1b" not in result.output


def test_a_lone_surrogate_is_a_bad_line_not_a_crash(tmp_path):
    """A JSON escape for half of a UTF-16 pair cannot be written out again: it is refused where it
    is read, so a batch records the line as an error and goes on; a whole pair is ordinary text."""
    with pytest.raises(CaseError, match="lone surrogate"):
        parse_json('{"answers": {"\\ud800": 1}}', "case.json", CaseError)
    with pytest.raises(CaseError, match="lone surrogate"):
        parse_json('{"note": ["ok", {"x": "a\\uDFFFb"}]}', "case.json", CaseError)
    assert parse_json('{"x": "\\ud83d\\ude00"}').data == {"x": "\U0001F600"}
    good = generated_cases(2)
    source = tmp_path / "in.jsonl"
    source.write_text(good[0] + "\n" + '{"answers": {"\\ud800": 1}}\n' + good[1] + "\n")
    result = run("batch", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) == 3 and "triage" in records[0] and "triage" in records[2]
    assert "lone surrogate" in records[1]["error"]["message"]


def test_output_never_goes_over_a_file_of_the_knowledge_base_in_use(tmp_path):
    """The knowledge files are inputs of every command: -o naming one is refused, whichever
    knowledge base is in use (a --knowledge copy or the shipped one), and the file is untouched."""
    knowledge = tmp_path / "kb"
    shutil.copytree(expert.loader.default_directory(), knowledge, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    findings = knowledge / "findings.yaml"
    before = findings.read_bytes()
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(generated_cases(2)) + "\n")
    example = str(Path(__file__).parent.parent / "examples" / "heat-cramps.yaml")
    for command in (["assess", example], ["batch", str(cases)], ["kb", "coverage"]):
        result = run("--knowledge", str(knowledge), *command, "-o", str(findings))
        assert result.exit_code == 2, (command, result.output)
        assert "knowledge base in use" in result.output
        assert findings.read_bytes() == before
    shipped = expert.loader.default_directory() / "advice.yaml"
    before = shipped.read_bytes()
    result = run("kb", "coverage", "-o", str(shipped))
    assert result.exit_code == 2 and shipped.read_bytes() == before


def test_the_api_names_a_wrong_argument_with_its_documented_error():
    """Data of the wrong shape is a CaseError or UnknownIdError, as the API documents; only a
    wrong object in place of the Expert is a TypeError."""
    with pytest.raises(CaseError, match="answers must be a mapping"):
        expert.Consultation(answers=[1])
    with pytest.raises(TypeError, match="expert.Expert"):
        expert.Consultation("knowledge")
    with pytest.raises(expert.UnknownIdError, match="named by its id"):
        expert.Consultation().answer(["movement"], "cramp")
    result = expert.assess({"answers": {"movement": "cramp"}})
    for call in (lambda: result.how(["triage"]), lambda: result.why_not(3), lambda: result.why(["pain"])):
        with pytest.raises(expert.UnknownIdError):
            call()


def test_small_slips_are_refused_not_guessed(tmp_path):
    """A value listed twice in a set, an output path ending in a slash and an empty session name
    are each refused with exit 2, not silently merged, rewritten or defaulted."""
    with pytest.raises(CaseError, match="listed twice in sites"):
        expert.assess({"answers": {"movement": "cramp", "sites": ["calf", "calf"]}})
    example = str(Path(__file__).parent.parent / "examples" / "heat-cramps.yaml")
    result = run("assess", example, "-o", str(tmp_path / "out.json") + "/")
    assert result.exit_code == 2 and "ends with a slash" in result.output
    assert not (tmp_path / "out.json").exists()
    result = run("consult", "--session", "", input="")
    assert result.exit_code == 2 and "empty file name" in result.output


def test_a_control_character_in_yaml_is_named_with_its_line():
    with pytest.raises(CaseError) as caught:
        parse_yaml("answers:\n  movement: cr\x00amp\n", "case.yaml", CaseError)
    problem = caught.value.problems[0]
    assert problem.line == 2 and "control character (code 0x0000)" in problem.message
    assert "unicode string" not in str(caught.value)


def test_a_case_of_the_wrong_shape_is_described_in_plain_words():
    for value, words in ((None, "got nothing"), ([1], "got a list"), (3, "got the number 3")):
        with pytest.raises(CaseError, match=words):
            expert.assess(value)


def test_an_empty_file_name_is_named_as_such(tmp_path):
    example = str(Path(__file__).parent.parent / "examples" / "heat-cramps.yaml")
    for args, words in ((["assess", example, "-o", ""], "output file name is empty"),
                        (["kb", "coverage", "-o", ""], "output file name is empty"),
                        (["assess", ""], "file name is empty"), (["batch", "", "-o", str(tmp_path / "x")], "file name is empty")):
        result = run(*args)
        assert result.exit_code == 2 and words in result.output, (args, result.output)
    assert not (tmp_path / "x").exists()


def test_a_fhir_answer_of_the_right_kind_but_no_value_says_what_it_holds():
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": [{"linkId": "movement", "answer": [{"valueCoding": None}]}]}
    with pytest.raises(CaseError, match=r"got valueCoding \(null\)"):
        expert.assess(response)
