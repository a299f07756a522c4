"""``spasm consult``: an adaptive interview at the terminal, saved after every answer."""
from __future__ import annotations

import os
import sys
import textwrap

import click

from .output import emit

HELP = ("Answer with the number or name of a choice (y/n for yes/no; several numbers for a list, or "
        "'none'). Commands: ? or why (why this question), back (undo the last answer), skip (not "
        "known), done (stop and show the report), quit (save and leave; resume later).")
COMMANDS = {"?": "why", "why": "why", "back": "back", "undo": "back", "skip": "skip", "unknown": "skip",
            "quit": "quit", "exit": "quit", "q": "quit", "done": "done", "finish": "done", "help": "help",
            "h": "help"}


def complete_values(observation: str):
    """Shell completion of an option from the values the knowledge base allows for ``observation``."""
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        values = ctx.find_root().obj.expert.kb.observations[observation].values
        return [value for value in values if value.startswith(incomplete)]
    return complete


class Answer(ValueError):
    """A typed answer that cannot be read; the message says what is allowed."""


def parse_answer(question, text: str):
    """Turn what was typed into a value of the question's type, accepting short forms."""
    words = text.replace(",", " ").split()
    if question.type == "bool":
        value = {"y": True, "yes": True, "1": True, "true": True, "n": False, "no": False, "2": False,
                 "false": False}.get(text.strip().lower())
        if value is None:
            raise Answer("answer y or n")
        return value
    if question.type == "number":
        try:
            value = float(text)
        except ValueError:
            raise Answer("answer with a number" + (f" ({question.unit})" if question.unit else "")) from None
        return int(value) if value.is_integer() else value
    ids = [c.id for c in question.choices]

    def one(word: str) -> str:
        if word.isdigit() and 1 <= int(word) <= len(ids):
            return ids[int(word) - 1]
        matches = [i for i in ids if i == word.lower()] or [i for i in ids if i.startswith(word.lower())]
        if len(matches) != 1:
            raise Answer(f"{word!r} is not one of the choices; type its number (1-{len(ids)}) or name")
        return matches[0]

    if question.type == "enum":
        if len(words) != 1:
            raise Answer("choose one answer")
        return one(words[0])
    if [w.lower() for w in words] in (["none"], ["0"]):
        return []
    if not words:
        raise Answer("choose one or more numbers, or 'none'")
    return list(dict.fromkeys(one(w) for w in words))


def read_line(prompt: str) -> str | None:
    """A line typed by the user, or None at end of input (Ctrl-D, closed terminal)."""
    click.echo(prompt, nl=False)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return None if line == "" else line.strip()


class Interview:
    """The dialogue loop: ask, read, act, save; alert on new urgent red flags at once."""

    def __init__(self, consultation, session_path: str, color: bool):
        self.c = consultation
        self.path = session_path
        self.color = color
        self.alerted: set[str] = set()  # presets and resumed answers are alerted on before the first question

    def style(self, text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if self.color else text

    def say(self, text: str = "", indent: str = "", **style) -> None:
        for line in textwrap.wrap(text, 78, initial_indent=indent, subsequent_indent=indent) or [""]:
            click.echo(self.style(line, **style) if style else line)

    def save(self, finished: bool = False) -> bool:
        """Save every answer so far; if that fails (a full disk), say so and go on: the answers stay
        in memory and the next save writes them all."""
        from expert.errors import InputError

        from . import session
        try:
            session.save(self.path, self.c, finished)
            return True
        except InputError as error:
            self.say(f"Could not save the answers: {error.problems[0]}. They are kept in memory and saving is "
                     f"tried again after the next answer; the file keeps the answers saved before (continue "
                     f"with: spasm consult --resume {self.path}).", indent="  ", fg="red")
            return False

    def alert_new_red_flags(self) -> None:
        """Show a red flag of a level that interrupts (emergency, urgent) the moment it is found."""
        for flag in self.c.assessment().red_flags:
            if flag.id in self.alerted:
                continue
            self.alerted.add(flag.id)
            level = self.c.kb.triage_levels[flag.level]
            if level.interrupts:
                click.echo()
                self.say(f"!!! {level.label.upper()}: {flag.label}", bold=True, fg=level.terminal_colour)
                self.say(f"{level.meaning} {flag.reason}", indent="    ", fg=level.terminal_colour)
                click.echo()

    def show_question(self, question) -> None:
        progress = f"[{question.answered} answered · {question.remaining} that could still matter]"
        click.echo()
        self.say(progress, dim=True)
        self.say(question.text, bold=True)
        if question.type == "bool":
            self.say("y) yes   n) no", indent="  ")
        elif question.type == "number":
            self.say(f"a number{' in ' + question.unit if question.unit else ''}", indent="  ")
        else:
            for n, choice in enumerate(question.choices, 1):
                self.say(f"{n}) {choice.label}", indent="  ")
            if question.type == "set":
                self.say("several numbers allowed, or 'none'", indent="  ", dim=True)

    def explain(self, question) -> None:
        answer = self.c.why(question.id)
        self.say(f"Why: {question.reason}.", indent="  ")
        if question.help:
            self.say(question.help, indent="  ")
        for rule in answer.rules[:6]:
            self.say(f"- {rule.effect}: {rule.label} ({rule.rule})", indent="  ")
        if len(answer.rules) > 6:
            self.say(f"- and {len(answer.rules) - 6} more rules", indent="  ")

    def run(self) -> str:
        """Interview until nothing more matters, 'done' or 'quit'; returns how it ended."""
        from expert.errors import CaseError
        self.alert_new_red_flags()
        while True:
            question = self.c.next_question()
            if question is None:
                return "done"
            self.show_question(question)
            while True:
                text = read_line("> ")
                if text is None:
                    return "quit"
                command = COMMANDS.get(text.lower())
                if command == "why":
                    self.explain(question)
                    continue
                if command == "help" or text == "":
                    self.say(HELP, indent="  ")
                    continue
                if command in ("quit", "done"):
                    return command
                if command == "back":
                    undone = self.c.undo()
                    self.save()
                    self.say(f"Took back: {undone[0]}." if undone else "Nothing to take back.", indent="  ")
                    break
                try:
                    value = "unknown" if command == "skip" else parse_answer(question, text)
                    self.c.answer(question.id, value)
                except Answer as problem:
                    self.say(f"{problem}. Type ? for why this is asked, help for commands.", indent="  ")
                    continue
                except CaseError as error:  # a value the vocabulary refuses (e.g. out of range)
                    self.say(error.problems[0].message + f" ({error.problems[0].hint})", indent="  ")
                    continue
                self.save()
                self.alert_new_red_flags()
                break


@click.command()
@click.option("--resume", "resume", metavar="FILE", type=click.Path(dir_okay=False),
              help="Continue a consultation saved in FILE.")
@click.option("--session", "session_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Save answers to FILE (default: spasm-consult-DATE-TIME.session.json here).")
@click.option("--age", type=float, help="The person's age in years, if already known.")
@click.option("--sex", metavar="SEX", shell_complete=complete_values("sex"),
              help="The person's sex, if already known (female, male or other).")
@click.option("--answers", "answers_file", metavar="CASE", type=click.Path(dir_okay=False),
              help="Preset answers from a case file (JSON or YAML).")
@click.option("-f", "--format", "fmt", type=click.Choice(("text", "markdown", "json", "html")), default="text",
              show_default=True, help="Format of the final report.")
@click.option("-o", "--output", metavar="FILE", help="Also write the final report to FILE.")
@click.pass_obj
def consult(settings, resume, session_file, age, sex, answers_file, fmt, output) -> None:
    """Run an interview: one question at a time, the ones that matter first.

    Red-flag questions come first and an urgent finding is shown at once. Every answer is saved
    to a session file as it is given; after quit, a crash or a closed terminal, continue with
    --resume FILE. At each question: ? (why), back, skip, done, quit.

    \b
    Examples:
      spasm consult
      spasm consult --age 67 --sex female
      spasm consult --answers known.yaml -o report.html -f html
      spasm consult --resume spasm-consult-20261123-101500.session.json
    """
    from expert.consultation import Consultation

    from . import session
    from .output import use_color
    from .report import render

    if resume:
        if session_file or answers_file or age is not None or sex:
            raise click.UsageError("--resume continues a saved consultation; it takes no other presets")
        click.get_current_context().call_on_close(session.lock(resume).release)
        consultation, data = session.resume(resume, settings.expert)
        path = resume
        if data.get("knowledge_version") != consultation.kb.knowledge_version:
            click.echo(f"Note: saved with knowledge base {data.get('knowledge_version')}; "
                       f"continuing with {consultation.kb.knowledge_version}.", err=True)
    else:
        path = os.path.abspath(session_file) if session_file else session.default_path()
        click.get_current_context().call_on_close(session.lock(path).release)
        if os.path.exists(path):
            raise click.UsageError(f"{path} already exists; continue it with --resume {path}, or choose another --session")
        preset = {}
        if answers_file:
            case = settings.expert.case(answers_file).to_dict(settings.expert.kb)
            preset = case.pop("answers")
            age = case.get("age", age) if age is None else age
            sex = case.get("sex", sex) if sex is None else sex
        consultation = Consultation(settings.expert, age=int(age) if age is not None and float(age).is_integer()
                                    else age, sex=sex, answers=preset)
    interview = Interview(consultation, path, use_color())
    session.save(path, consultation)  # before any question: a path that cannot be written is refused now
    interview.say("Spasm Expert consultation: decision support, not a diagnosis.", bold=True)
    interview.say(HELP)
    interview.say(f"Answers are saved to {path}")
    ending = interview.run()
    if ending == "quit":
        if not interview.save():
            raise click.exceptions.Exit(2)
        click.echo()
        interview.say(f"Saved. Continue with: spasm consult --resume {path}")
        return
    interview.save(finished=True)
    click.echo()
    assessment = consultation.assessment()
    emit(render(assessment, "text", color=use_color()), None)
    if output:
        emit(render(assessment, fmt), output)
        click.echo(f"Report written to {output}")
