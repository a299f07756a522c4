"""The spasm command through click's CliRunner: output and exit codes (0, 1, 2), bad input included."""
import json
import re
from html.parser import HTMLParser

import jsonschema
import pytest
import yaml

import expert
from expert.cli.main import cli
from expert.cli.output import use_color
from expert.schema import assessment_schema
from tests.conftest import SMALL_KB, run

CASE = {"age": 34, "answers": {"movement": "cramp", "sites": ["calf"], "hot_environment": True,
                               "recent_strenuous_exercise": True, "lightheaded": True, "nausea": True}}


@pytest.fixture
def case_file(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(CASE))
    return str(path)


def test_version_matches_the_package():
    result = run("--version")
    assert result.exit_code == 0 and result.output.strip() == f"spasm, version {expert.__version__}"


@pytest.mark.parametrize("command", [[], ["assess"], ["explain"], ["consult"], ["batch"], ["kb"], ["kb", "lint"],
                                     ["kb", "show"], ["kb", "graph"], ["kb", "coverage"], ["schema"], ["completion"]])
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: spasm" in result.output and "Example" in result.output


def test_assess_text_report_has_every_section(case_file):
    result = run("assess", case_file, "--ref", "MRN 12345")
    assert result.exit_code == 0, result.output
    text = result.output
    byline, headline = text.splitlines()[:2]
    assert re.fullmatch(r"Spasm Expert assessment · \d{4}-\d\d-\d\d · ref MRN 12345", byline)
    assert headline == "URGENT: Seek medical help today."
    summary, details = text.split("-" * 80 + "\n")
    for heading in ("Because: Signs of heat exhaustion", "Red flags", "Likely causes", "Tests to consider",
                    "not a diagnosis"):
        assert heading in summary
    for heading in ("Answers", "Present:", "Red flags", "Possible causes", "What to do", "Questions that could change",
                    "Sources", "not a diagnosis"):
        assert heading in details
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b[" not in text  # no colour when not on a terminal
    assert "red_flag.heat_exhaustion" not in text and "red_flag.heat_exhaustion" in run("assess", case_file,
                                                                                          "--explain").output


@pytest.mark.parametrize("example", ["convulsion.yaml", "eyelid-twitch.yaml", "heat-cramps.yaml",
                                     "twitching-weakness-wasting.yaml", "night-cramps-diuretic.json"])
def test_the_summary_of_a_typical_case_fits_on_one_screen(example):
    from pathlib import Path
    text = run("assess", str(Path(__file__).parent.parent / "examples" / example)).output
    summary = text.split("-" * 80 + "\n")[0].splitlines()
    assert len(summary) <= 24 and max(map(len, summary)) <= 80, "\n".join(summary)


def test_pertinent_negatives_are_on_one_line_after_the_positives(tmp_path):
    case = tmp_path / "c.yaml"
    case.write_text(yaml.safe_dump({"answers": {"movement": "cramp", "weakness": False, "swelling": False,
                                                "nausea": True, "caffeine": "unknown"}}))
    details = run("assess", str(case)).output.split("-" * 80 + "\n")[1]
    assert "Present: Kind of movement: Cramp; Nausea" in details
    assert "Not present: Muscle weakness; Swelling" in details and "Not known: Caffeine" in details
    assert details.index("Present:") < details.index("Not present:")


def test_a_sparse_case_is_never_read_as_reassurance(tmp_path):
    case = tmp_path / "c.yaml"
    case.write_text(yaml.safe_dump({"answers": {"movement": "cramp", "sites": ["calf"]}}))
    text = run("assess", str(case)).output
    assert "No red flag was found" not in text
    assert "screening is incomplete" in text and "Not yet ruled out: EMERGENCY" in text


def test_assess_json_is_the_contract(case_file):
    result = run("assess", case_file, "--format", "json")
    data = json.loads(result.output)
    jsonschema.validate(data, assessment_schema(expert.default_expert().kb))
    assert data["triage"]["level"] == "urgent"
    assert data == expert.assess(CASE).to_dict()
    explained = json.loads(run("assess", case_file, "-f", "json", "--explain").output)
    assert explained["explanations"]["triage"]["level"] == "urgent"


def test_assess_markdown(case_file):
    text = run("assess", case_file, "--format", "markdown").output
    assert text.startswith("# Spasm Expert assessment")
    assert "**URGENT: Seek medical help today.**" in text and "**Likely causes**" in text
    assert "## Red flags" in text and "## Possible causes" in text and "> Decision support, not a diagnosis" in text


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.stack, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.ids.append(attrs.get("id"))
        if tag in ("link", "script", "img") or (attrs.get("src") or "").startswith("http"):
            self.external.append(tag)
        if tag not in ("meta", "br", "link", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_html_report_is_self_contained_and_has_each_section(case_file, tmp_path):
    out = tmp_path / "report.html"
    result = run("assess", case_file, "--format", "html", "-o", str(out), "--explain")
    assert result.exit_code == 0 and result.output == ""
    page = out.read_text()
    parser = _Sections()
    parser.feed(page)
    assert parser.ids == ["triage", "summary", "answers", "red-flags", "causes", "advice", "clinician", "tests",
                          "unanswered", "explanations", "sources", "disclaimer"]
    assert parser.stack == [] and parser.external == []
    assert "@media print" in page and "not a diagnosis" in page
    assert 'class="banner urgent"' in page
    sources = page[page.index('id="sources"'):page.index('id="disclaimer"')]
    assert "TheHealthBoard" in sources or "health guide" in sources


def test_html_escapes_what_it_prints(tmp_path):
    from expert.cli.report import Report, Summary, render_html
    summary = Summary("Book <b>now</b>", "Because: <script>x</script>", ["<u>maybe</u>"], ["! A&B"], [], [], "")
    report = Report("routine", "Routine", summary, ["<i>"], [], [], [], [], [], [], [], [], [], "d", "v",
                    "2026-01-01", ref="<ref>")
    page = render_html(report)
    assert "<script>x" not in page and "&lt;script&gt;" in page and "A&amp;B" in page
    assert "<u>maybe" not in page and "&lt;u&gt;maybe" in page and "&lt;ref&gt;" in page and "<i>" not in page


def test_assess_reads_stdin_json_and_yaml():
    assert json.loads(run("assess", "-", "-f", "json", input=json.dumps(CASE)).output)["triage"]["level"] == "urgent"
    assert run("assess", "-", input=yaml.safe_dump(CASE)).output.splitlines()[1].startswith("URGENT")


def test_missing_file_exits_2_and_names_it(tmp_path):
    result = run("assess", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.output


def test_malformed_yaml_exits_2_with_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("age: 40\nanswers:\n  movement: cramp\n  sites: [calf\n")
    result = run("assess", str(path))
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}:[45]: YAML syntax error", result.output), result.output


def test_unknown_observation_exits_2_naming_the_field(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("answers:\n  movement: cramp\n  weaknes: true\n")
    result = run("assess", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: answers.weaknes: unknown observation 'weaknes' (did you mean 'weakness'?)" in result.output


def test_bad_value_exits_2_with_the_allowed_values(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"answers": {"pain": "terrible"}}, indent=1))
    result = run("assess", str(path))
    assert result.exit_code == 2
    assert "answers.pain: 'terrible' is not a value of pain" in result.output
    assert "none, mild, moderate, severe" in result.output


def test_bad_option_is_a_usage_error():
    assert run("assess", "x.yaml", "--format", "pdf").exit_code == 2
    assert run("nonsense").exit_code == 2


def test_an_internal_error_exits_1_and_asks_for_a_report(case_file, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(expert.Expert, "assess", broken)
    result = run("assess", case_file)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in result.output and "please report it" in result.output


def test_explain_how_why_not_and_why(case_file):
    how = run("explain", case_file, "--how", "triage")
    assert how.exit_code == 0 and "heat_exhaustion" in how.output and "level urgent" in how.output
    tree = json.loads(run("explain", case_file, "--how", "heat_illness", "-f", "json").output)
    assert tree["kind"] == "cause" and tree["because"]
    why_not = run("explain", case_file, "--why-not", "motor_neuron_disease")
    assert why_not.exit_code == 0 and "did not fire" in why_not.output
    why = run("explain", case_file, "--why", "weakness")
    assert why.exit_code == 0 and "could" in why.output
    assert "was not concluded" in run("explain", case_file, "--how", "convulsion").output


def test_explain_refuses_unknown_ids_and_ambiguous_requests(case_file):
    result = run("explain", case_file, "--how", "heat_ilness")
    assert result.exit_code == 2 and "did you mean 'heat_illness'" in result.output
    assert run("explain", case_file).exit_code == 2
    assert run("explain", case_file, "--how", "triage", "--why", "pain").exit_code == 2


def test_kb_lint_passes_on_the_shipped_knowledge():
    result = run("kb", "lint", "--strict")
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ rules; 0 warnings", result.output)


def test_kb_lint_on_broken_knowledge_exits_2_with_file_and_line(tmp_path):
    import shutil
    shutil.copytree(SMALL_KB, tmp_path / "kb")
    rules = tmp_path / "kb" / "rules.yaml"
    rules.write_text(rules.read_text().replace("when: {movement: convulsion}", "when: {movement: seizure}"))
    result = run("--knowledge", str(tmp_path / "kb"), "kb", "lint")
    assert result.exit_code == 2
    assert re.search(r"rules\.yaml:\d+: red_flags\[0\]\.when\.movement: 'seizure' is not a value", result.output)


def test_kb_lint_warns_and_strict_fails_on_a_valid_but_suspect_base():
    result = run("--knowledge", str(SMALL_KB), "kb", "lint")
    assert result.exit_code == 0 and "core observation 'pattern' is missing" in result.output
    assert run("--knowledge", str(SMALL_KB), "kb", "lint", "--strict").exit_code == 2


def test_kb_show(tmp_path):
    listing = json.loads(run("kb", "show", "-f", "json").output)
    assert "dehydration" in listing["causes"] and listing["red_flags"]["convulsion"] == "emergency"
    cause = run("kb", "show", "dehydration")
    assert cause.exit_code == 0 and "kind: cause" in cause.output and "for:" in cause.output
    both = json.loads(run("kb", "show", "stress_anxiety", "-f", "json").output)
    assert {item["kind"] for item in both} == {"observation", "cause"}
    rule = json.loads(run("kb", "show", "red_flag.convulsion", "-f", "json").output)
    assert rule["kind"] == "red flag rule" and rule["concludes"] == "convulsion"
    conditions = json.loads(run("kb", "show", "conditions", "-f", "json").output)
    assert conditions["contract"] == "core" and "heart_disease" in conditions["extension_values"]
    assert "diabetes" not in conditions["extension_values"]
    assert json.loads(run("kb", "show", "chest_pain", "-f", "json").output)[0]["contract"] == "extension"
    assert json.loads(run("kb", "show", "seizure", "-f", "json").output)["contract"] == "extension"
    missing = run("kb", "show", "dehydratoin")
    assert missing.exit_code == 2 and "did you mean 'dehydration'" in missing.output


def test_kb_graph_writes_dot(tmp_path):
    out = tmp_path / "net.dot"
    result = run("kb", "graph", "-o", str(out))
    assert result.exit_code == 0
    dot = out.read_text()
    assert dot.startswith("digraph spasm_expert {") and dot.rstrip().endswith("}")
    assert '"obs:hot_environment" -> "cause:heat_illness"' in dot
    assert '"finding:heat_exhaustion_signs" -> "red_flag:heat_exhaustion"' in dot
    assert run("kb", "graph", "-o", str(tmp_path / "net.txt")).exit_code == 2


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz is not installed")
def test_kb_graph_draws_svg_with_graphviz(tmp_path):
    out = tmp_path / "net.svg"
    assert run("kb", "graph", "-o", str(out)).exit_code == 0
    assert "<svg" in out.read_text()


def test_kb_graph_svg_needs_graphviz(tmp_path, monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = run("kb", "graph", "-o", str(tmp_path / "net.svg"))
    assert result.exit_code == 2 and "Graphviz" in result.output


def test_kb_coverage_lists_items_per_source():
    data = json.loads(run("kb", "coverage", "-f", "json").output)
    assert set(data) >= {"healthboard", "causes-article", "twitch-or-cramp", "irregular-spasms", "spasms-guide"}
    assert "convulsion" in data["spasms-guide"]["red_flag"]
    text = run("kb", "coverage").output
    assert "healthboard: What are Involuntary Muscle Spasms? (TheHealthBoard)" in text
    assert run("kb", "coverage", "-f", "markdown").output.startswith("# Knowledge coverage by source")


def test_schema_command_prints_valid_schemas():
    case_schema = json.loads(run("schema", "case").output)
    jsonschema.Draft202012Validator.check_schema(case_schema)
    jsonschema.validate(CASE, case_schema)
    assert json.loads(run("schema", "assessment").output)["title"] == "Spasm Expert assessment"


def test_completion_script():
    result = run("completion", "bash")
    assert result.exit_code == 0 and "_SPASM_COMPLETE" in result.output


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Terminal:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Terminal()) is False
    monkeypatch.delenv("NO_COLOR")
    assert use_color(open(__file__)) is False


def test_output_file_that_cannot_be_written_exits_2(case_file, tmp_path):
    result = run("assess", case_file, "-o", str(tmp_path / "missing-dir" / "r.txt"))
    assert result.exit_code == 2


def test_cli_and_library_agree_on_the_knowledge_option(case_file):
    result = run("--knowledge", str(SMALL_KB), "assess", "-", "-f", "json", input='{"answers": {"weakness": true}}')
    assert json.loads(result.output)["triage"]["level"] == "routine"
    assert cli is not None
