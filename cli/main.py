"""The ``spasm`` command group, its global options and its exit codes.

Exit codes (docs/contract.md section 5): 0 success, 1 internal error (a bug), 2 bad input or usage.
Commands import the engine only when they run, so ``spasm --help`` starts quickly.
"""
from __future__ import annotations

import os
import sys

import click

from expert import __version__

ISSUES_HINT = "This is a bug in Spasm Expert; please report it with the command you ran and the input."


class Settings:
    """Options shared by every command, and the expert they select (loaded on first use)."""

    def __init__(self, knowledge: str | None):
        self.knowledge = knowledge
        self._expert = None

    @property
    def expert(self):
        if self._expert is None:
            import expert
            self._expert = (expert.Expert.from_directory(self.knowledge) if self.knowledge
                            else expert.default_expert())
        return self._expert


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="spasm")
@click.option("--knowledge", metavar="DIR", envvar="SPASM_KNOWLEDGE",
              type=click.Path(file_okay=False), help="Use the knowledge base in DIR instead of the shipped one.")
@click.pass_context
def cli(ctx: click.Context, knowledge: str | None) -> None:
    """Decision support for involuntary muscle movements: cramps, spasms, twitches, jerks,
    tics, convulsions and dystonia.

    Suggests a triage level, red flags, possible causes, advice and tests, each explained;
    it never makes a diagnosis.

    \b
    Examples:
      spasm consult                      # an interview, one question at a time
      spasm assess examples/heat-cramps.yaml
      spasm assess case.json --format html -o report.html
      spasm kb show dehydration
    """
    ctx.obj = Settings(knowledge)


def _register() -> None:
    from . import assess, batch, consult, kb, serve, tools, trail
    for command in (assess.assess, assess.explain, consult.consult, batch.batch, kb.kb, tools.schema,
                    tools.completion, serve.serve, trail.audit):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and, as a script, exit with) the contract's exit code."""
    try:
        code = cli.main(args=argv, prog_name="spasm", standalone_mode=False)
        return code if isinstance(code, int) else 0  # click returns an Exit's code in this mode
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:  # usage errors: bad option, missing argument, bad file
        error.show()
        return 2
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001
        if _is_input_error(error):
            click.echo(f"spasm: {error}", err=True)
            return 2
        click.echo(f"spasm: internal error: {type(error).__name__}: {error}\n{ISSUES_HINT}", err=True)
        if os.environ.get("SPASM_DEBUG"):
            raise
        return 1


def _is_input_error(error: Exception) -> bool:
    """Bad input found by the engine (a case, a knowledge file): exit 2, not a bug.

    Looked up in sys.modules so that commands which never load the engine do not import it.
    """
    errors = sys.modules.get("expert.errors")
    return errors is not None and isinstance(error, errors.SpasmError)


def run() -> None:  # the console script
    sys.exit(main())
