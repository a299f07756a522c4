"""Small commands: ``spasm schema`` and ``spasm completion``."""
from __future__ import annotations

import json

import click

from .output import emit


@click.command()
@click.argument("which", type=click.Choice(("case", "assessment", "questionnaire")))
@click.pass_obj
def schema(settings, which: str) -> None:
    """Print the JSON Schema of a case or of an assessment (docs/contract.md sections 1 and 4),
    or the vocabulary as a FHIR R4 Questionnaire (a QuestionnaireResponse to it is a case).

    \b
    Examples:
      spasm schema case > case.schema.json
      spasm schema assessment
      spasm schema questionnaire > questionnaire.json
    """
    from expert.schema import assessment_schema, case_schema
    if which == "questionnaire":
        from expert.fhir import questionnaire
        data = questionnaire(settings.expert.kb)
    else:
        data = case_schema(settings.expert.kb) if which == "case" else assessment_schema(settings.expert.kb)
    emit(json.dumps(data, indent=2) + "\n", None)


@click.command()
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(spasm completion bash)"          # in ~/.bashrc
      spasm completion fish > ~/.config/fish/completions/spasm.fish
    """
    from click.shell_completion import get_completion_class

    root = click.get_current_context().find_root().command
    completion_class = get_completion_class(shell)
    assert completion_class is not None  # the choice allows only shells click knows
    completer = completion_class(root, {}, "spasm", "_SPASM_COMPLETE")
    click.echo(completer.source())
