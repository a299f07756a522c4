"""The ``spasm`` command group, its global options and its exit codes.

Exit codes (docs/contract.md section 5): 0 success, 1 internal error (a bug), 2 bad input or usage;
also 130 after Ctrl-C and 143 after SIGTERM (128 + the signal, as shells report it). Output piped
into a command that stops reading (``spasm batch ... | head -1``) ends the run quietly with 0: the
reader had what it wanted, and a shell's ``pipefail`` should not fail for it.
Commands import the engine only when they run, so ``spasm --help`` starts quickly.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import click

from expert import __version__

from .output import ISSUES_HINT


class Settings:
    """Options shared by every command, and the expert they select (loaded on first use)."""

    def __init__(self, knowledge: str | None):
        self.knowledge = knowledge
        self._expert = None

    @property
    def expert(self):
        if self._expert is None:
            import expert
            self._expert = (expert.Expert.from_directory(self.knowledge) if self.knowledge is not None
                            else expert.default_expert())
        return self._expert


class _PipeClosed(Exception):
    """Output went to a reader that stopped reading (``| head -1``)."""


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # click itself would turn it into exit code 1
            raise _PipeClosed() from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    if knowledge is not None and not knowledge.strip():
        raise click.BadParameter("empty path; name a knowledge directory, or leave the option out for the "
                                 "shipped one", param_hint="--knowledge")
    ctx.obj = Settings(knowledge)


def _register() -> None:
    from . import assess, batch, consult, kb, serve, tools, trail
    for command in (assess.assess, assess.explain, consult.consult, batch.batch, kb.kb, tools.schema,
                    tools.completion, serve.serve, trail.audit):
        cli.add_command(command)


_register()


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C does (workers stopped, temporary files removed)."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def _silence_stdout() -> None:
    """After a broken pipe, send what is left to /dev/null, so that flushing stdout at exit does
    not fail again (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (a test runner's buffer)
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and, as a script, exit with) the contract's exit code."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _run(argv)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: list[str] | None) -> int:
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
    except Terminated:
        click.echo("Terminated.", err=True)
        return 143
    except _PipeClosed:
        _silence_stdout()
        return 0
    except Exception as error:  # noqa: BLE001
        from expert.errors import printable
        if _is_input_error(error):
            click.echo(f"spasm: {printable(str(error), newlines=True)}", err=True)
            return 2
        click.echo(f"spasm: internal error: {type(error).__name__}: {printable(str(error), newlines=True)}\n"
                   f"{ISSUES_HINT}", err=True)
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
