"""A broken copy of the shipped knowledge base is refused with one clear problem, never a crash.

Each test edits a copy of knowledge/ in tmp_path: ask_when cycles, values of the wrong shape
where an id or text belongs, the manifest's version, missing fields that used to cascade into
dozens of problems, and directory entries that are not files.
"""
import copy
import os
import random
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from expert import KnowledgeError, loader
from expert.documents import parse_yaml
from tests.conftest import line_of, run
from tests.test_loader import only_problem, problems_of

KNOWLEDGE = Path(loader.__file__).resolve().parent.parent / "knowledge"


@pytest.fixture
def kb(tmp_path) -> Path:
    """A copy of the shipped knowledge directory (YAML files only)."""
    directory = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, directory, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    return directory


def set_field(path: Path, item_id: str | None, field: str, value: str) -> int:
    """Write ``field: value`` in the block-style item ``- id: item_id`` (or, with no id, in the
    file's top mapping's mapping), replacing the field's old value; returns the line written."""
    lines = path.read_text().splitlines(keepends=True)
    if item_id is None:
        start = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
        indent = "  "
    else:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {item_id}")
        indent = " " * (len(lines[start]) - len(lines[start].lstrip()) + 2)
        if field == "id":
            lines[start] = lines[start].replace(f"id: {item_id}", f"id: {value}")
            path.write_text("".join(lines))
            return start + 1
    end = start + 1
    while end < len(lines) and (lines[end].startswith(indent) or not lines[end].strip()):
        end += 1
    for i in range(start + 1, end):
        if lines[i].startswith(f"{indent}{field}:"):
            stop = i + 1
            while stop < end and lines[stop].startswith(indent + " "):
                stop += 1
            del lines[i:stop]
            break
    lines.insert(start + 1, f"{indent}{field}: {value}\n")
    path.write_text("".join(lines))
    return start + 2


def first_id(path: Path, section: str) -> str:
    return parse_yaml(path.read_text()).data[section][0]["id"]


def lint(directory: Path):
    return run("--knowledge", str(directory), "kb", "lint")


# -------------------------------------------------------------------------- B4: ask_when cycles
def test_an_ask_when_cycle_of_two_is_refused_naming_both(kb):
    observations = kb / "observations.yaml"
    line = set_field(observations, "chest_pain", "ask_when", "{breathing_difficulty: true}")
    set_field(observations, "breathing_difficulty", "ask_when", "{chest_pain: true}")
    problem = only_problem(kb)
    assert "cycle: chest_pain -> breathing_difficulty -> chest_pain" in problem.message
    assert problem.file.endswith("observations.yaml") and problem.line == line
    assert problem.field.endswith(".ask_when")
    result = lint(kb)
    assert result.exit_code == 2 and f"observations.yaml:{line}:" in result.output
    assert "Traceback" not in result.output


def test_a_longer_ask_when_cycle_is_refused(kb):
    observations = kb / "observations.yaml"
    set_field(observations, "chest_pain", "ask_when", "{any: [{movement: cramp}, {breathing_difficulty: true}]}")
    set_field(observations, "breathing_difficulty", "ask_when", "{not: {swallowing_difficulty: false}}")
    set_field(observations, "swallowing_difficulty", "ask_when", "{chest_pain: true}")
    problem = only_problem(kb)
    assert "chest_pain -> breathing_difficulty -> swallowing_difficulty -> chest_pain" in problem.message


def test_a_chain_of_ask_when_conditions_without_a_cycle_loads(kb):
    observations = kb / "observations.yaml"
    set_field(observations, "breathing_difficulty", "ask_when", "{swallowing_difficulty: true}")
    set_field(observations, "swallowing_difficulty", "ask_when", "{jaw_stiffness: true}")
    assert loader.load(kb).observations["breathing_difficulty"].ask_when is not None


def test_the_cycle_search_follows_long_chains_without_recursion():
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(20_000)}
    assert loader.cycles(chain) == []
    chain["n20000"] = ["n0"]
    (cycle,) = loader.cycles(chain)
    assert cycle[0] == cycle[-1] == "n0" and len(cycle) == 20_002
    assert loader.cycles({"a": ["b", "c"], "b": ["a"], "c": ["c"]}) == [["a", "b", "a"], ["c", "c"]]


# ---------------------------------------------------- C6: a list or mapping where an id belongs
@pytest.mark.parametrize("value, words", [("[urgent]", "a list"), ("{a: 1}", "a mapping")])
def test_a_red_flag_level_given_as_a_list_or_mapping_is_named(kb, value, words):
    red_flags = kb / "red_flags.yaml"
    line = set_field(red_flags, first_id(red_flags, "red_flags"), "level", value)
    problem = only_problem(kb)
    assert problem.field == "red_flags[0].level" and problem.line == line
    assert problem.message == f"expected a triage level, got {words}"
    assert "allowed: emergency, urgent, routine, self_care" in problem.hint
    result = lint(kb)
    assert result.exit_code == 2 and "internal error" not in result.output


@pytest.mark.parametrize("file, section, field, message", [
    ("observations.yaml", "observations", "id", "expected an id, got a list"),
    ("observations.yaml", "observations", "type", "expected a type, got a list"),
    ("observations.yaml", "observations", "unit", "expected text, got a list"),
    ("observations.yaml", "observations", "group", "expected an id, got a list"),
    ("observations.yaml", "observations", "top_level", "expected true or false, got a list"),
    ("causes_activity.yaml", "causes", "id", "expected an id, got a list"),
    ("sources.yaml", "sources", "kind", "expected a source kind, got a list"),
    ("advice.yaml", "advice", "audience", "expected an audience, got a list"),
])
def test_an_id_field_given_as_a_list_is_named(kb, file, section, field, message):
    path = kb / file
    set_field(path, first_id(path, section), field, "[x]")
    problems = problems_of(kb)
    named = [p for p in problems if p.field == f"{section}[0].{field}"]
    assert named and named[0].message == message, [str(p) for p in problems]
    assert all(p.file and p.line for p in problems)


def scalar_paths(data, path=()):
    """The path of every scalar value held under a mapping key."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                yield from scalar_paths(value, path + (key,))
            elif value is not None:
                yield path + (key,)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from scalar_paths(value, path + (i,))


def fuzz_targets(budget: int) -> list[tuple[str, tuple]]:
    """One path per field of each kind (``causes.*.for.*.cf``), then a seeded sample of the
    keys of conditions, up to ``budget`` paths in all."""
    fields: dict[tuple, tuple[str, tuple]] = {}
    in_conditions: dict[tuple, tuple[str, tuple]] = {}
    for path in sorted(KNOWLEDGE.glob("*.yaml")):
        for where in scalar_paths(parse_yaml(path.read_text()).data):
            shape = tuple("*" if isinstance(part, int) else part for part in where)
            chosen = in_conditions if "when" in shape or "ask_when" in shape else fields
            chosen.setdefault(shape, (path.name, where))
    rest = random.Random(0).sample(sorted(in_conditions.values()), max(0, budget - len(fields)))
    return list(fields.values()) + rest


@pytest.mark.slow
def test_any_scalar_replaced_by_a_list_or_mapping_is_a_knowledge_error(kb):
    """Fuzz: each sampled scalar in turn becomes [x] and {a: 1}; the loader loads or raises
    KnowledgeError with a file and line, never another exception."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    originals = {path.name: parse_yaml(path.read_text()).data for path in kb.glob("*.yaml")}

    def write(name: str, data) -> None:
        (kb / name).write_text(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True))

    for name, data in originals.items():  # the dumped copy itself loads
        write(name, data)
    loader.load(kb)
    targets = fuzz_targets(budget=80)  # 160 loads, about 15 s
    assert len(targets) == 80
    for name, where in targets:
        for bad in (["x"], {"a": 1}):
            data = copy.deepcopy(originals[name])
            parent = data
            for part in where[:-1]:
                parent = parent[part]
            parent[where[-1]] = bad
            write(name, data)
            try:
                loader.load(kb)
            except KnowledgeError as error:
                for problem in error.problems:
                    assert problem.file and problem.line, (name, where, bad, str(problem))
            except Exception as error:  # pragma: no cover - the failure being tested for
                pytest.fail(f"{name} {where} = {bad!r}: {type(error).__name__}: {error}")
        write(name, originals[name])


# ------------------------------------------------------------------ D15: text fields are text
TEXT_FIELDS = [
    ("findings.yaml", "findings", "label", True), ("findings.yaml", "findings", "description", False),
    ("red_flags.yaml", "red_flags", "label", True), ("red_flags.yaml", "red_flags", "reason", True),
    ("red_flags.yaml", "red_flags", "provenance", False), ("red_flags.yaml", "red_flags", "note", False),
    ("observations.yaml", "observations", "label", True), ("observations.yaml", "observations", "question", True),
    ("observations.yaml", "observations", "help", False),
    ("causes_activity.yaml", "causes", "label", True), ("causes_activity.yaml", "causes", "description", True),
    ("causes_activity.yaml", "causes", "provenance", False),
    ("advice.yaml", "advice", "text", True), ("tests.yaml", "tests", "text", True),
    ("sources.yaml", "sources", "title", True), ("sources.yaml", "sources", "publisher", True),
    ("sources.yaml", "sources", "note", False), ("sources.yaml", "sources", "file", False),
]


@pytest.mark.parametrize("value, words", [("[a, b]", "a list"), ("{a: 1}", "a mapping")])
@pytest.mark.parametrize("file, section, field, required", TEXT_FIELDS)
def test_a_text_field_given_as_a_list_or_mapping_is_named(kb, file, section, field, required, value, words):
    path = kb / file
    line = set_field(path, first_id(path, section), field, value)
    problems = problems_of(kb)
    named = [p for p in problems if p.field == f"{section}[0].{field}"]
    expected = f"expected non-empty text, got {words}" if required else f"expected text, got {words}"
    assert named and named[0].message == expected and named[0].line == line, [str(p) for p in problems]


@pytest.mark.parametrize("field", ["name", "disclaimer"])
def test_the_manifests_text_is_text(kb, field):
    set_field(kb / "manifest.yaml", None, field, "[a, b]")
    problem = only_problem(kb)
    assert problem.field == f"knowledge.{field}" and problem.message == "expected non-empty text, got a list"


def test_an_unquoted_version_number_is_refused_with_a_hint_to_quote_it(kb):
    line = set_field(kb / "manifest.yaml", None, "version", "1.10")
    problem = only_problem(kb)
    assert problem.field == "knowledge.version" and problem.line == line
    assert "quoted text" in problem.message and "the number 1.1" in problem.message
    assert "1.10" in problem.hint
    result = lint(kb)
    assert result.exit_code == 2 and "knowledge.version" in result.output


@pytest.mark.parametrize("version", ['"1.10"', "2", "1.2.3.4", "v1.2.3", '"01.2.3"', "1.2.3+build", "[1, 2, 3]"])
def test_a_version_not_in_the_form_major_minor_patch_is_refused(kb, version):
    set_field(kb / "manifest.yaml", None, "version", version)
    problem = only_problem(kb)
    assert problem.field == "knowledge.version" and "version" in problem.message


@pytest.mark.parametrize("version", ['"1.10.0"', "1.10.0", "2.0.0-rc.1", "0.0.1"])
def test_a_version_in_the_form_major_minor_patch_loads(kb, version):
    set_field(kb / "manifest.yaml", None, "version", version)
    assert loader.load(kb).version == version.strip('"')


# ------------------------------------------------- E19: one missing field is one problem
@pytest.mark.parametrize("field", ["name", "version", "disclaimer"])
def test_a_missing_manifest_field_is_one_problem(kb, field):
    manifest = kb / "manifest.yaml"
    set_field(manifest, None, field, "x")
    manifest.write_text(manifest.read_text().replace(f"  {field}: x\n", ""))
    problem = only_problem(kb)
    assert problem.message == f"missing required field {field!r}"
    assert problem.field == "knowledge" and problem.line == line_of(manifest, "knowledge:")
    result = lint(kb)
    assert result.exit_code == 2 and result.output.count("\n") == 1


def test_missing_triage_levels_are_one_problem_not_one_per_rule(kb):
    manifest = kb / "manifest.yaml"
    text = manifest.read_text()
    manifest.write_text(text[:text.index("  triage_levels:")])
    assert only_problem(kb).message == "missing required field 'triage_levels'"


def test_a_broken_triage_level_is_reported_once_not_by_each_rule_using_it(kb):
    set_field(kb / "manifest.yaml", "urgent", "label", "[Urgent]")
    problem = only_problem(kb)
    assert problem.field == "knowledge.triage_levels[1].label"


def test_a_source_without_a_title_is_one_problem_not_one_per_citation(kb):
    sources = kb / "sources.yaml"
    source = first_id(sources, "sources")
    set_field(sources, source, "title", "x")
    sources.write_text(sources.read_text().replace("    title: x\n", "", 1))
    problem = only_problem(kb)
    assert problem.message == "missing required field 'title'" and problem.field == "sources[0]"
    assert problem.line == line_of(sources, f"- id: {source}")


def test_citing_a_source_that_was_never_defined_is_still_reported(kb):
    red_flags = kb / "red_flags.yaml"
    set_field(red_flags, first_id(red_flags, "red_flags"), "sources", "[no-such-source]")
    problem = only_problem(kb)
    assert problem.message == "unknown source 'no-such-source'" and problem.field == "red_flags[0].sources[0]"


def test_sources_given_as_one_id_rather_than_a_list_say_so(kb):
    red_flags = kb / "red_flags.yaml"
    set_field(red_flags, first_id(red_flags, "red_flags"), "sources", "healthboard")
    problem = only_problem(kb)
    assert problem.message == "expected a list of source ids, got 'healthboard'"


# ---------------------------------------------- D14: files that are missing or not files
def test_the_interview_and_tests_files_may_be_left_out(kb):
    """File names are free and only the knowledge section is required: with no interview section
    questions are asked by priority alone, and with no tests section none are suggested."""
    (kb / "interview.yaml").unlink()
    (kb / "tests.yaml").unlink()
    loaded = loader.load(kb)
    assert loaded.tests == {} and loaded.interview.core == () and loaded.interview.checklists == {}


def test_a_symbolic_link_to_a_knowledge_file_is_read(kb, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    (kb / "tests.yaml").rename(outside)
    (kb / "tests.yaml").symlink_to(outside)
    assert len(loader.load(kb).tests) == len(loader.load(KNOWLEDGE).tests)


def make_directory(path: Path) -> None:
    path.mkdir()


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "no-such-file.yaml")


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_link_to_a_directory(path: Path) -> None:
    (path.parent.parent / "folder").mkdir()
    path.symlink_to(path.parent.parent / "folder")


@pytest.mark.parametrize("make, words", [
    (make_directory, "is a directory, not a knowledge file"),
    (make_dangling_link, "is a symbolic link to a missing file"),
    (make_fifo, "is a named pipe (FIFO), not a knowledge file"),
    (make_link_to_a_directory, "is a directory, not a knowledge file"),
])
@pytest.mark.parametrize("name", ["tests.yaml", "zz.yml"])
def test_an_entry_that_is_not_a_file_is_refused_without_blocking(kb, make, words, name):
    path = kb / name
    if path.exists():
        path.unlink()
    make(path)
    outcome: list = []

    def load() -> None:
        try:
            loader.load(kb)
            outcome.append(None)
        except Exception as error:  # noqa: BLE001 - checked below
            outcome.append(error)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert outcome, "loading the knowledge directory blocked"
    (error,) = outcome
    assert isinstance(error, KnowledgeError), repr(error)
    (problem,) = error.problems
    assert problem.file == str(path) and problem.message == words
    if make is not make_fifo:  # the command line, too (a FIFO is covered above without risking a hang)
        result = lint(kb)
        assert result.exit_code == 2 and f"{name}: {words}" in result.output
