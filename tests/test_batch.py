"""spasm batch: one output line per input line, in order, error records for bad lines."""
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import expert
from expert.batch import assess_lines
from tests.conftest import run
from tests.strategies import case_lines

SPASM = str(Path(sys.executable).parent / "spasm")


def generated_cases(count: int, seed: int = 3) -> list[str]:
    """Valid cases over the shipped vocabulary, each a JSON line."""
    return case_lines(expert.default_expert().kb, count, seed)


def test_good_and_bad_lines(tmp_path):
    source = tmp_path / "in.jsonl"
    good = generated_cases(3)
    source.write_text("\n".join([good[0], "{not json", good[1], "", '{"answers": {"pain": "huge"}}', good[2]]) + "\n")
    result = run("batch", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2  # some lines were bad; the run still completed
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 6
    records = [json.loads(line) for line in lines]
    assert [("error" in r) for r in records] == [False, True, False, True, True, False]
    assert records[1]["line"] == 2 and "JSON syntax error" in records[1]["error"]["message"]
    assert records[3]["error"]["message"] == "line 4: empty line; each line must hold one JSON case"
    assert records[4]["error"]["problems"][0]["field"] == "answers.pain"
    assert records[0] == expert.assess(json.loads(good[0])).to_dict()
    assert "6 cases:" in result.output and "3 errors (lines 2, 4, 5)" in result.output


def test_all_good_lines_exit_0_and_stream_to_stdout(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(generated_cases(5)) + "\n")
    result = run("batch", str(source), "--no-progress")
    assert result.exit_code == 0
    assert sum(1 for line in result.output.splitlines() if line.startswith('{"triage"')) == 5


def test_jobs_1_and_jobs_2_give_identical_output():
    lines = generated_cases(300, seed=11)
    one = [r.text for r in assess_lines(lines, jobs=1)]
    two = [r.text for r in assess_lines(lines, jobs=2, chunk=17)]
    assert one == two and len(one) == 300


@pytest.mark.slow
def test_ten_thousand_cases_with_two_jobs_keep_their_order(tmp_path):
    lines = generated_cases(10_000, seed=5)
    lines[1234] = '{"answers": {"movement": "nope"}}'
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run([SPASM, "batch", str(source), "-o", str(output), "--jobs", "2"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 2, done.stderr
    results = output.read_text().splitlines()
    assert len(results) == 10_000
    assert json.loads(results[1234])["line"] == 1235
    engine = expert.default_expert()
    for index in random.Random(1).sample(range(10_000), 150):
        if index != 1234:
            assert results[index] == engine.assess(json.loads(lines[index])).to_json(indent=None), index
    assert "10,000 cases:" in done.stderr and "1 errors (lines 1235)" in done.stderr
    assert "\r" not in done.stderr  # no progress display when stderr is not a terminal


def test_a_progress_line_with_rate_and_eta_on_a_terminal(tmp_path):
    import pexpect
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(generated_cases(400, seed=2)) + "\n")
    child = pexpect.spawn(SPASM, ["batch", str(source), "-o", str(tmp_path / "out.jsonl")], encoding="utf-8",
                          timeout=120, env={"NO_COLOR": "1", "PATH": ""})
    child.expect(r"\r[\d,]+ cases · [\d,]+/s · +\d+% · ETA \d+:\d\d")
    child.expect("400 cases: ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
