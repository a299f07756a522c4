"""Benchmark: prints how fast and how lean Spasm Expert is, and how it scales.

    python -m bench            full run (a few minutes; the figures quoted in the README)
    python -m bench --quick    small sizes: checks the benchmark works (used by CI)

The last section loads a local HTTP server (``spasm serve`` on a loopback port) with a bounded
number of requests.

Each figure is printed with how it was measured. Targets are printed beside the figures for
reading, never asserted: timings depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.cases import generated_cases

ROOT = Path(__file__).resolve().parent.parent
SPASM = str(Path(sys.executable).parent / "spasm")
EXAMPLE = str(ROOT / "examples" / "heat-cramps.yaml")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def command_ms(args: list[str], runs: int) -> tuple[float, float]:
    """Median and best wall time of a fresh process running ``args``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def warm_case_ms(assess, cases: list) -> list[float]:
    """Per-case time of ``assess(case)`` plus ``to_json()`` once warm (compiled once, engine reused)."""
    for case in cases[:20]:
        assess(case).to_json()
    times = []
    for case in cases:
        started = time.perf_counter()
        assess(case).to_json(indent=None)
        times.append((time.perf_counter() - started) * 1000)
    return times


def lower_bound(expert_):
    """The same assessment with the engine's run replaced by the project's own three-valued
    evaluator: what the knowledge costs decided directly in Python, with the same result building."""
    from expert.assessment import Assessment
    from expert.decider import reference_run

    def assess(case):
        validated = expert_.case(case)
        return Assessment(expert_.logic, validated, reference_run(expert_.logic, validated.answers))
    return assess


def batch_run(cases_file: Path, jobs: int) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MB, largest single process) of ``spasm batch``."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, SPASM, "batch", str(cases_file), "-o", os.devnull,
                          "--jobs", str(jobs), "--no-progress"], capture_output=True, text=True, check=True).stdout
    seconds, rss_kb = out.split()
    return float(seconds), int(rss_kb) // 1024


def scaled_knowledge(copies: int, directory: Path) -> Path:
    """The shipped knowledge base with every cause repeated ``copies`` times under new ids."""
    import yaml
    target = directory / f"kb-x{copies}"
    shutil.copytree(ROOT / "knowledge", target)
    extra = []
    for path in sorted((ROOT / "knowledge").glob("causes*.yaml")):
        for cause in yaml.safe_load(path.read_text())["causes"]:
            for n in range(1, copies):
                clone = json.loads(json.dumps(cause))
                clone["id"] = f"{cause['id']}_copy{n}"
                extra.append(clone)
    (target / "zz_scaled.yaml").write_text(yaml.safe_dump({"causes": extra}, sort_keys=False))
    return target


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def interview_replays(expert_, row) -> None:
    """Interviews replayed from full cases (the shipped examples and the clinical vignettes), each
    question answered from the case as a clinician with the notes would (``expert.consultation.replay``):
    how many questions were asked, and whether the result equals the whole case's."""
    from expert.consultation import replay
    cases = [expert_.case(str(path)).to_dict(expert_.kb) for path in sorted((ROOT / "examples").iterdir())
             if path.suffix in (".yaml", ".json")]
    cases += [v["case"] for v in yaml.safe_load((ROOT / "tests" / "vignettes.yaml").read_text())["vignettes"]]
    asked, triage, flags, top3 = [], 0, 0, 0
    started = time.perf_counter()
    for case in cases:
        consultation, questions = replay(case, expert_)
        full, got = expert_.assess(case), consultation.assessment()
        asked.append(len(questions))
        triage += full.triage.level == got.triage.level
        flags += {f.id for f in full.red_flags} == {f.id for f in got.red_flags}
        top3 += {c.id for c in full.leading_causes()} == {c.id for c in got.leading_causes()}
    seconds = time.perf_counter() - started
    row("interview: questions asked", f"{statistics.median(asked):.0f} / {percentile(asked, .9):.0f} / {max(asked)}",
        "<= 12 / - / 20", f"median / 90th percentile / max over {len(cases)} replayed cases")
    row("interview: same triage, red flags", f"{triage / len(cases):.0%}, {flags / len(cases):.0%}", "100%, 100%",
        "as the whole case")
    row("interview: same top three causes", f"{top3 / len(cases):.0%}", ">= 90%", "as a set")
    row("interview: time per question", f"{seconds * 1000 / max(1, sum(asked)):.1f} ms", "",
        "next_question() and answer(), all stages decided each time")


def load_run(kb, quick: bool, row) -> None:
    """POST /v1/assessments against a local ``spasm serve --workers 2`` (loopback only), audit trail
    on, from 1, 8 and 32 concurrent clients (threads, each with one keep-alive connection). Each level sends
    a fixed number of requests and stops early after a time bound; nothing is asserted."""
    try:
        import httpx
    except ImportError:
        print("  (load run skipped: install the service extra)")
        return
    import concurrent.futures
    import http.client
    import signal
    import threading
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        server = subprocess.Popen([SPASM, "serve", "--insecure-dev", "--port", str(port), "--workers", "2",
                                   "--audit", str(Path(scratch) / "audit.db")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            bodies = [json.dumps(case).encode() for case in generated_cases(kb, 500, seed=11)]
            per_level = 300 if quick else 2000
            time_bound = 20 if quick else 60
            for clients in (1, 8, 32):
                warm = httpx.Client(base_url=url, timeout=30)
                for body in bodies[:40]:  # every worker thread builds its engine once
                    warm.post("/v1/assessments", content=body, headers={"Content-Type": "application/json"})
                warm.close()
                latencies: list[float] = []
                lock = threading.Lock()
                counter = iter(range(per_level))
                stop_at = time.monotonic() + time_bound
                errors = 0

                def worker() -> None:  # stdlib http.client: a light client leaves more of the 2 CPUs to the server
                    nonlocal errors
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    try:
                        for n in counter:
                            if time.monotonic() > stop_at:
                                return
                            started = time.perf_counter()
                            connection.request("POST", "/v1/assessments", body=bodies[n % len(bodies)],
                                               headers={"Content-Type": "application/json"})
                            response = connection.getresponse()
                            response.read()
                            elapsed = (time.perf_counter() - started) * 1000
                            with lock:
                                latencies.append(elapsed)
                                errors += response.status != 200
                    finally:
                        connection.close()

                started = time.perf_counter()
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    for future in [pool.submit(worker) for _ in range(clients)]:
                        future.result()
                seconds = time.perf_counter() - started
                row(f"HTTP assess, 2 workers, {clients} clients", f"{len(latencies) / seconds:,.0f} req/s",
                    ">= 300/s" if clients > 1 else "",
                    f"{len(latencies)} requests in {seconds:.1f} s; p50 {percentile(latencies, .5):.1f} ms, "
                    f"p99 {percentile(latencies, .99):.1f} ms{' (target < 50 ms)' if clients == 8 else ''}"
                    f"{f'; {errors} errors' if errors else ''}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the benchmark runs")
    options = parser.parse_args()
    quick = options.quick

    import expert
    rows: list[tuple[str, str, str, str]] = []

    def row(what: str, figure: str, target: str, how: str) -> None:
        rows.append((what, figure, target, how))
        print(f"  {what:<38} {figure:>18}   {target:<14} {how}", flush=True)

    print(f"Spasm Expert {expert.__version__} on Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs{' (quick mode)' if quick else ''}\n")
    print(f"  {'measure':<38} {'figure':>18}   {'target':<14} how it was measured")

    runs = 3 if quick else 15
    median, best = command_ms([SPASM, "--help"], runs)
    row("spasm --help, cold", f"{median:.0f} ms", "< 150 ms", f"median of {runs} fresh processes (best {best:.0f})")
    median, best = command_ms([SPASM, "assess", EXAMPLE], runs)
    row("spasm assess (one case), cold", f"{median:.0f} ms", "< 500 ms",
        f"median of {runs} fresh processes, examples/heat-cramps.yaml (best {best:.0f})")

    default = expert.default_expert()
    unknown = {"answers": {f"key{i}": True for i in range(10_000)}}
    started = time.perf_counter()
    try:
        default.case(unknown)
    except expert.CaseError as error:
        message = str(error)
    row("case with 10,000 unknown keys", f"{(time.perf_counter() - started) * 1000:.1f} ms", "quick",
        f"rejected with a {len(message.splitlines())}-line message")
    started = time.perf_counter()
    expert.Expert(default.kb).new_engine()
    row("compile knowledge + build engine", f"{(time.perf_counter() - started) * 1000:.0f} ms", "",
        f"{len(default.kb.rules)} rules, once per process")
    started = time.perf_counter()
    for _ in range(20):
        expert.Consultation(default, age=40)
    row("create a Consultation", f"{(time.perf_counter() - started) * 1000 / 20:.2f} ms", "< 5 ms",
        "mean of 20, shipped knowledge already compiled")
    cases = generated_cases(default.kb, 300 if quick else 3000)
    times = warm_case_ms(default.assess, cases)
    reference = lower_bound(default)
    bound = warm_case_ms(reference, cases)
    row("assessment, warm: p50", f"{percentile(times, .5):.2f} ms", "<= 1.2 ms",
        f"assess + to_json, {len(cases)} random cases, one engine reused")
    row("assessment, warm: p95", f"{percentile(times, .95):.2f} ms", "<= 2.5 ms", "same run")
    row("lower bound: p50 / p95", f"{percentile(bound, .5):.2f} / {percentile(bound, .95):.2f} ms", "",
        "same cases, the engine's run replaced by the three-valued evaluator")
    row("full assessment / lower bound", f"{statistics.median(times) / statistics.median(bound):.2f}x", "",
        "ratio of medians in this run (machine noise cancels)")
    disagreements = sum(default.assess(case).to_json(explain=True) != reference(case).to_json(explain=True)
                        for case in cases)
    row("engine vs evaluator: cases differing", f"{disagreements}", "0",
        f"JSON with explanations, all {len(cases)} cases")

    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        sizes = [200, 1000] if quick else [1_000, 10_000, 100_000]
        pool = generated_cases(default.kb, 2000, seed=7)
        for size in sizes:
            cases_file = scratch_path / f"cases-{size}.jsonl"
            with cases_file.open("w") as stream:
                for i in range(size):
                    stream.write(json.dumps(pool[i % len(pool)]) + "\n")
            megabytes = cases_file.stat().st_size / 1e6
            seconds, rss = batch_run(cases_file, jobs=2)
            row(f"batch --jobs 2, {size:,} cases", f"{size / seconds:,.0f} cases/s", ">= 1,200/s",
                f"{seconds:.1f} s wall, peak RSS {rss} MB per process, {megabytes:.1f} MB in")
        if not quick:
            seconds, rss = batch_run(scratch_path / "cases-10000.jsonl", jobs=1)
            row("batch --jobs 1, 10,000 cases", f"{10_000 / seconds:,.0f} cases/s", "",
                f"{seconds:.1f} s wall, peak RSS {rss} MB")
        target_mb = 2 if quick else 100
        big = scratch_path / "big.jsonl"
        lines = 0
        with big.open("w") as stream:  # real cases padded with JSON whitespace to ~10 KB a line
            while stream.tell() < target_mb * 1_000_000:
                case = json.dumps(pool[lines % len(pool)])
                stream.write(case[:-1] + " " * (10_000 - len(case)) + "}\n")
                lines += 1
        seconds, rss = batch_run(big, jobs=2)
        row(f"batch --jobs 2, {target_mb} MB of JSONL", f"peak RSS {rss} MB", "flat",
            f"{lines:,} lines of ~10 KB in {seconds:.1f} s; compare the RSS of the smaller runs above")

        for copies in ([2] if quick else [2, 4]):
            bigger = expert.Expert.from_directory(scaled_knowledge(copies, scratch_path))
            times = warm_case_ms(bigger.assess, cases[:300 if quick else 1500])
            row(f"knowledge x{copies} ({len(bigger.kb.rules)} rules): p50",
                f"{percentile(times, .5):.2f} ms", "", f"p95 {percentile(times, .95):.2f} ms; every cause repeated")
    interview_replays(default, row)
    load_run(default.kb, quick, row)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\nbenchmark process peak RSS {peak} MB")


if __name__ == "__main__":
    main()
