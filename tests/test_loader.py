"""Knowledge validation: each kind of problem is reported with its file, line and a hint."""
import pytest

from expert import KnowledgeError, loader
from tests.conftest import line_of


def problems_of(directory):
    with pytest.raises(KnowledgeError) as caught:
        loader.load(directory)
    return caught.value.problems


def only_problem(directory):
    problems = problems_of(directory)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_small_knowledge_base_loads(small):
    kb = small.kb
    assert list(kb.triage_levels) == ["emergency", "urgent", "routine", "self_care"]
    assert "finding.long_cramp" in kb.rules and "cause.overuse.exercise" in kb.rules
    assert kb.rules["cause.overuse.rested"].cf == -0.5
    assert kb.knowledge_version.startswith("0.1.0+")


def test_unknown_observation_in_a_condition_names_file_line_and_suggests(kb_copy):
    directory = kb_copy("rules.yaml", "when: {weakness: true, wasting: true}", "when: {weakness: true, wastng: true}")
    problem = only_problem(directory)
    assert problem.file.endswith("rules.yaml")
    assert problem.line == line_of(directory / "rules.yaml", "wastng")
    assert "unknown observation 'wastng'" in problem.message
    assert "wasting" in problem.hint
    assert problem.field == "red_flags[1].when.wastng"


def test_unknown_value_of_an_enum_lists_the_allowed_values(kb_copy):
    directory = kb_copy("rules.yaml", "when: {movement: convulsion}", "when: {movement: seizure}")
    problem = only_problem(directory)
    assert problem.line == line_of(directory / "rules.yaml", "movement: seizure")
    assert "'seizure' is not a value of movement" in problem.message
    assert "cramp" in problem.hint or "convulsion" in problem.hint


def test_wrong_type_for_a_yes_no_observation(kb_copy):
    directory = kb_copy("rules.yaml", "when: {weakness: true}\n", "when: {weakness: 3}\n")
    problem = only_problem(directory)
    assert "expected true or false" in problem.message
    assert problem.line == line_of(directory / "rules.yaml", "weakness: 3")


def test_unknown_observation_type(kb_copy):
    directory = kb_copy("vocabulary.yaml", "{id: thirst, type: bool", "{id: thirst, type: boolean")
    problem = only_problem(directory)
    assert "unknown type 'boolean'" in problem.message and "bool" in problem.hint
    assert problem.line == line_of(directory / "vocabulary.yaml", "type: boolean")


def test_duplicate_id_points_at_the_first_definition(kb_copy):
    directory = kb_copy("rules.yaml", "  - id: weakness\n    label: Weakness", "  - id: convulsion\n    label: Weakness")
    problem = only_problem(directory)
    assert "duplicate id 'convulsion'" in problem.message
    assert f"rules.yaml:{line_of(directory / 'rules.yaml', 'id: convulsion')}" in problem.hint


def test_unknown_source(kb_copy):
    directory = kb_copy("rules.yaml", "reason: Seizure-like.\n    when: {movement: convulsion}\n    sources: [doc]",
                        "reason: Seizure-like.\n    when: {movement: convulsion}\n    sources: [dok]")
    problem = only_problem(directory)
    assert "unknown source 'dok'" in problem.message and "doc" in problem.hint
    assert problem.line == line_of(directory / "rules.yaml", "[dok]")


def test_a_rule_must_cite_a_source(kb_copy):
    directory = kb_copy("rules.yaml", "reason: Seizure-like.\n    when: {movement: convulsion}\n    sources: [doc]",
                        "reason: Seizure-like.\n    when: {movement: convulsion}\n    sources: []")
    assert "cite at least one source" in only_problem(directory).message


def test_general_knowledge_needs_a_provenance(kb_copy):
    directory = kb_copy("rules.yaml", ", provenance: Emergency means call.}", "}")
    problem = only_problem(directory)
    assert "needs a provenance field" in problem.message


def test_missing_required_field(kb_copy):
    directory = kb_copy("rules.yaml", "    reason: Needs a look.\n", "")
    problem = only_problem(directory)
    assert "missing required field 'reason'" in problem.message
    assert problem.line == line_of(directory / "rules.yaml", "id: weakness")


def test_unknown_field_suggests_the_right_one(kb_copy):
    directory = kb_copy("rules.yaml", "reason: Needs a look.", "reasn: Needs a look.")
    problems = problems_of(directory)
    assert any("unknown field 'reasn'" in p.message and "reason" in (p.hint or "") for p in problems)


def test_cycle_among_findings_is_reported_with_its_path(kb_copy):
    directory = kb_copy("rules.yaml", "when: {movement: cramp, episode_minutes: {at_least: 10}}",
                        "when: {finding: long_calf_cramp, episode_minutes: {at_least: 10}}")
    problem = only_problem(directory)
    assert "cycle" in problem.message
    assert "long_cramp" in problem.message and "long_calf_cramp" in problem.message
    assert problem.file.endswith("rules.yaml") and problem.line


def test_a_red_flag_cannot_refer_to_a_cause(kb_copy):
    directory = kb_copy("rules.yaml", "when: {weakness: true}\n", "when: {cause: overuse}\n")
    problem = only_problem(directory)
    assert "cannot refer to a cause" in problem.message
    assert "observations, findings" in problem.hint


def test_unknown_reference(kb_copy):
    directory = kb_copy("rules.yaml", "when: {finding: heat_signs}", "when: {finding: heat_sign}")
    problem = only_problem(directory)
    assert "unknown finding 'heat_sign'" in problem.message and "heat_signs" in problem.hint


def test_certainty_factor_out_of_range(kb_copy):
    directory = kb_copy("rules.yaml", "{id: exercise, cf: 0.6", "{id: exercise, cf: 1.6")
    problem = only_problem(directory)
    assert "from 0.01 to 1" in problem.message
    assert problem.line == line_of(directory / "rules.yaml", "cf: 1.6")


def test_unknown_numeric_test(kb_copy):
    directory = kb_copy("rules.yaml", "episode_minutes: {at_least: 10}", "episode_minutes: {atleast: 10}")
    problem = only_problem(directory)
    assert "unknown numeric test 'atleast'" in problem.message and "at_least" in problem.hint


def test_count_needs_a_sensible_threshold(kb_copy):
    directory = kb_copy("rules.yaml", "count: {at_least: 2,", "count: {at_least: 5,")
    assert "whole number from 1 to 3" in only_problem(directory).message


def test_red_flags_and_conditions_use_the_manifests_triage_levels(kb_copy):
    directory = kb_copy("manifest.yaml", "    - {id: urgent, label: Urgent, meaning: Today.}\n", "")
    problems = problems_of(directory)
    assert {p.field.split(".")[-1] for p in problems} == {"level", "triage"} and len(problems) >= 2
    assert all("allowed: emergency, routine, self_care" in str(p) for p in problems)


def test_triage_levels_other_than_the_contracts_are_a_contract_warning(kb_copy):
    from expert.audit import contract_problems
    directory = kb_copy()
    assert not [w for w in contract_problems(loader.load(directory)) if "triage" in w.message]
    manifest = directory / "manifest.yaml"
    emergency = "    - {id: emergency, label: Emergency, meaning: Call now.}\n"
    calmest = "    - {id: self_care, label: Self-care, meaning: Home.}"
    manifest.write_text(manifest.read_text().replace(emergency, "").replace(calmest, calmest + "\n" + emergency))
    kb = loader.load(directory)
    assert kb.calmest_level == "emergency" and kb.urgency("urgent") > kb.urgency("self_care")
    assert [w.code for w in contract_problems(kb) if "triage" in w.message] == ["contract"]


def test_triage_levels_are_checked_for_colours_and_interrupts(kb_copy):
    directory = kb_copy("manifest.yaml", "    - {id: urgent, label: Urgent, meaning: Today.}\n",
                        "    - {id: urgent, label: Urgent, meaning: Today., colour: red, terminal_colour: mauve,"
                        " interrupts: sometimes}\n")
    problems = problems_of(directory)
    fields = {p.field for p in problems}
    assert fields == {"knowledge.triage_levels[1].colour", "knowledge.triage_levels[1].terminal_colour",
                      "knowledge.triage_levels[1].interrupts"}


def test_yaml_syntax_error_has_the_line(kb_copy):
    directory = kb_copy("rules.yaml", append="  - id: [unclosed\n")
    problem = only_problem(directory)
    assert problem.message.startswith("YAML syntax error")
    assert problem.file.endswith("rules.yaml") and problem.line >= line_of(directory / "rules.yaml", "[unclosed")


def test_duplicate_yaml_key_is_an_error(kb_copy):
    directory = kb_copy("rules.yaml", "    label: Long cramp\n", "    label: Long cramp\n    label: Again\n")
    problem = only_problem(directory)
    assert "duplicate key 'label'" in problem.message
    assert problem.line == line_of(directory / "rules.yaml", "label: Again")


def test_unknown_section(kb_copy):
    directory = kb_copy(append="red_flag: []\n", file="rules.yaml")
    problem = only_problem(directory)
    assert "unknown section 'red_flag'" in problem.message and "red_flags" in problem.hint


def test_every_problem_is_reported_at_once(kb_copy):
    kb_copy("rules.yaml", "when: {movement: convulsion}", "when: {movement: seizure}")
    directory = kb_copy("vocabulary.yaml", "{id: thirst, type: bool", "{id: thirst, type: boolean")
    problems = problems_of(directory)
    messages = " | ".join(p.message for p in problems)
    assert "seizure" in messages and "boolean" in messages
    assert [p.file for p in problems] == sorted(p.file for p in problems)


def test_missing_directory():
    problem = only_problem("/nonexistent/knowledge")
    assert problem.file == "/nonexistent/knowledge" and "not found" in problem.message


def test_yaml_tags_cannot_run_code(kb_copy):
    directory = kb_copy("rules.yaml", "label: Long cramp", "label: !!python/object/apply:os.system ['true']")
    problem = only_problem(directory)
    assert "YAML syntax error" in problem.message and "python/object" in problem.message


def test_error_message_lists_file_and_line(kb_copy):
    directory = kb_copy("rules.yaml", "when: {movement: convulsion}", "when: {movement: seizure}")
    with pytest.raises(KnowledgeError) as caught:
        loader.load(directory)
    line = line_of(directory / "rules.yaml", "seizure")
    assert f"rules.yaml:{line}: red_flags[0].when.movement:" in str(caught.value)


def test_the_shipped_knowledge_base_loads_and_compiles():
    import expert
    kb = expert.default_expert().kb
    assert len(kb.causes) >= 24 and len(kb.red_flags) >= 15
    assert all(rule.sources for rule in kb.rules.values())


def test_the_interview_plan_is_loaded(small):
    plan = small.kb.interview
    assert plan.core == ("movement", "sites")
    assert plan.checklists["heat_and_effort"].observations == ("heat", "thirst", "exercise")
    assert plan.checklist_of["thirst"].id == "heat_and_effort"


@pytest.mark.parametrize("old, new, field, message", [
    ("observations: [heat, thirst, exercise]", "observations: [heat, sites]",
     "interview.checklists[0].observations[1]", "'sites' is not a yes/no observation"),
    ("observations: [heat, thirst, exercise]", "observations: [heat]",
     "interview.checklists[0].observations", "at least two"),
    ("core: [movement, sites]", "core: [movement, site]", "interview.core[1]", "unknown observation or checklist 'site'"),
    ("id: heat_and_effort", "id: weakness", "interview.checklists[0].id", "already the id of an observation"),
    ("core: [movement, sites]", "core: [movement, {sites: 1}]", "interview.core[1]",
     "expected an observation or checklist id, got {'sites': 1}"),
    ("observations: [heat, thirst, exercise]", "observations: [heat, [thirst], exercise]",
     "interview.checklists[0].observations[1]", "['thirst'] is not a yes/no observation"),
])
def test_interview_mistakes_are_named(kb_copy, old, new, field, message):
    problem = only_problem(kb_copy("interview.yaml", old, new))
    assert problem.field == field and message in problem.message


@pytest.mark.slow
def test_reloading_the_knowledge_base_keeps_no_memory_of_earlier_loads():
    """A service that reloads its knowledge must stay flat (Experta's Rete check cache used to keep
    every compiled network alive)."""
    import gc
    import tracemalloc

    import expert
    from expert.loader import default_directory

    def reload() -> None:
        expert.Expert.from_directory(default_directory()).assess({"answers": {"movement": "cramp"}})

    reload()
    tracemalloc.start()
    try:
        for _ in range(5):
            reload()
        gc.collect()
        after_five = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            reload()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - after_five
    finally:
        tracemalloc.stop()
    assert growth < 100_000, f"{growth:,} bytes kept by 20 reloads"
