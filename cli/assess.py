"""``spasm assess`` and ``spasm explain``: one case from a file or stdin."""
from __future__ import annotations

import json

import click

from .output import emit

FORMATS = ("text", "markdown", "json", "html")


def read_case(settings, path: str):
    """Validate a case from a case file, a saved consultation session, or stdin when ``path`` is ``-``."""
    from .session import read_case as read
    return read(path, settings.expert)


@click.command()
@click.argument("case", metavar="CASE")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--explain", is_flag=True, help="Add how each conclusion was reached.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of the terminal.")
@click.option("--ref", metavar="TEXT", help="A patient or clinician reference printed on the report (not in JSON).")
@click.pass_obj
def assess(settings, case: str, fmt: str, explain: bool, output: str | None, ref: str | None) -> None:
    """Assess a case: a JSON or YAML file, or - for stdin.

    \b
    Examples:
      spasm assess examples/heat-cramps.yaml
      spasm assess case.json --format json --explain
      cat case.yaml | spasm assess - --format markdown -o report.md
    """
    from .output import use_color
    from .report import render
    assessment = settings.expert.assess(read_case(settings, case))
    color = fmt == "text" and not output and use_color()
    emit(render(assessment, fmt, explain, color, ref=ref), output, inputs=[case] if case != "-" else [0])


@click.command()
@click.argument("case", metavar="CASE")
@click.option("--how", "how", metavar="ID", help="How this conclusion (or 'triage') was reached.")
@click.option("--why-not", "why_not", metavar="ID", help="Why this cause, red flag or finding was not concluded.")
@click.option("--why", "why", metavar="OBSERVATION", help="Which undecided rules an answer to this would feed.")
@click.option("-f", "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_obj
def explain(settings, case: str, how: str | None, why_not: str | None, why: str | None, fmt: str) -> None:
    """Explain one conclusion of a case, or why it was not reached.

    \b
    Examples:
      spasm explain case.yaml --how triage
      spasm explain case.yaml --how dehydration
      spasm explain case.yaml --why-not motor_neuron_disease
      spasm explain case.yaml --why weakness
    """
    from .report import tree_lines, why_not_lines
    if sum(x is not None for x in (how, why_not, why)) != 1:
        raise click.UsageError("give exactly one of --how ID, --why-not ID or --why OBSERVATION")
    assessment = settings.expert.assess(read_case(settings, case))
    if how is not None:
        tree = assessment.how(how)
        if tree is None:
            text = f"{how} was not concluded for this case; try --why-not {how}\n"
            emit(json.dumps({"id": how, "concluded": False}) + "\n" if fmt == "json" else text, None)
            return
        answer = tree.to_dict()
        lines = tree_lines(answer)
    elif why_not is not None:
        answer = assessment.why_not(why_not).to_dict()
        lines = why_not_lines(answer)
    else:
        answer = assessment.why(why).to_dict()
        lines = [f"{answer['question']} ({why}): {answer['summary']}"]
        lines += [f"  {r['rule']}: {r['effect']} when {r['condition']}" for r in answer["rules"]]
    emit(json.dumps(answer, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else "\n".join(lines) + "\n", None)
