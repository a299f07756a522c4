"""``spasm consult``: an adaptive interview at the terminal, saved after every answer."""
from __future__ import annotations

import os
import re
import sys
import textwrap
from typing import Any, Callable

import click

from .output import check_writable, emit

HELP = ("Answer with the number or the name of a choice (y or n for yes/no; several for a list, or none). "
        "Commands, each also written with a colon (:back) when a choice has the same name: ? or why (why "
        "this question), back (take back the last answer), skip (not known), done (the report now), "
        "more (keep asking about causes), quit (save and leave; continue later), help.")
COMMANDS = {"?": "why", "why": "why", "back": "back", "undo": "back", "skip": "skip", "unknown": "skip",
            "quit": "quit", "exit": "quit", "done": "done", "report": "done", "more": "more", "help": "help"}
NONE_WORDS = ("none", "0", "-")
#: A typed name selects a choice when it is the whole id or label, or at least this many of its
#: first letters (and only one choice starts so): "n" never selects "neck".
PREFIX = 3
#: Units a typed duration or age may carry, in the observation's own unit.
UNITS: dict[str, dict[str, float]] = {
    "minutes": {"s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
                "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
                "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "d": 1440, "day": 1440, "days": 1440},
    "years": {"y": 1, "yr": 1, "yrs": 1, "year": 1, "years": 1, "mo": 1 / 12, "month": 1 / 12, "months": 1 / 12,
              "w": 1 / 52, "wk": 1 / 52, "week": 1 / 52, "weeks": 1 / 52, "d": 1 / 365, "day": 1 / 365,
              "days": 1 / 365},
}
_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.I | re.ASCII)  # 0-9 only, as typed


def complete_values(observation: str) -> Callable[..., list[str]]:
    """Shell completion of an option from the values the knowledge base allows for ``observation``."""
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        values = ctx.find_root().obj.expert.kb.observations[observation].values
        return [value for value in values if value.startswith(incomplete)]
    return complete


class Answer(ValueError):
    """A typed answer that cannot be read; the message says what is allowed."""


def _names(choice) -> tuple[str, ...]:
    """What a choice may be called: its id, its label, and the label's short form before a colon."""
    label = choice.label.lower()
    return tuple(dict.fromkeys((str(choice.id).lower(), label, label.split(":")[0].strip())))


def _choose(question, word: str) -> Any:
    """The choice a typed word means: its number, its name, or a long enough unique start of it."""
    choices = question.choices
    if word.isascii() and word.isdigit():
        if 1 <= int(word) <= len(choices):
            return choices[int(word) - 1].id
        raise Answer(f"there is no choice {word}; type a number from 1 to {len(choices)} or a name")
    typed = word.lower()
    exact = [c.id for c in choices if typed in _names(c)]
    if exact:
        return exact[0]
    started = [c.id for c in choices if len(typed) >= PREFIX and any(n.startswith(typed) for n in _names(c))]
    if len(started) == 1:
        return started[0]
    hint = f"type its number (1-{len(choices)}) or its name" + (f" (at least {PREFIX} letters)" if typed else "")
    raise Answer(f"{word!r} is not one of the choices; {hint}")


def _number(question, text: str) -> float:
    match = _NUMBER.fullmatch(text)
    units = UNITS.get(question.unit, {})
    if not match or (match.group(2) and match.group(2).lower() not in units):
        known = f", or with a unit such as {', '.join(list(units)[:3])}" if units else ""
        raise Answer(f"answer with a number of {question.unit or 'units'}{known}")
    value = float(match.group(1)) * units.get(match.group(2).lower(), 1)
    return int(value) if value.is_integer() else round(value, 4)


def parse_answer(question, text: str) -> Any:
    """Turn what was typed into an answer of the question's type, accepting short forms and units."""
    words = text.replace(",", " ").split()
    if question.type == "bool":
        value = {"y": True, "yes": True, "true": True, "1": True, "n": False, "no": False, "false": False,
                 "2": False}.get(text.strip().lower())
        if value is None:
            raise Answer("answer y (yes) or n (no)")
        return value
    if question.type == "number":
        return _number(question, text)
    if question.type == "enum":
        if len(words) != 1 and not [c for c in question.choices if text.strip().lower() in _names(c)]:
            raise Answer("choose one answer")
        return _choose(question, text.strip() if len(words) != 1 else words[0])
    if [w.lower() for w in words] in [[w] for w in NONE_WORDS]:
        return []
    whole = [c.id for c in question.choices if text.strip().lower() in _names(c)]
    if whole:  # a choice named in several words ("whole body")
        return whole[:1]
    if not words:
        raise Answer("choose one or more (numbers or names), or none")
    return list(dict.fromkeys(_choose(question, w) for w in words))


def command_of(question, text: str) -> str | None:
    """The command typed, if any: ``:word`` always; a bare word only when no choice is called so."""
    typed = text.strip().lower()
    if typed.startswith(":"):
        return COMMANDS.get(typed[1:]) or "unknown-command"
    if typed in COMMANDS and not any(typed in _names(c) for c in question.choices):
        return COMMANDS[typed]
    return None


def _some(items: list[str], joiner: str, shown: int = 4) -> str:
    """The first few items, and how many more there are."""
    more = len(items) - shown
    return joiner.join(items[:shown]) + (f" and {more} more" if more > 0 else "")


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

    def style(self, text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if self.color else text

    def say(self, text: str = "", indent: str = "", hang: str | None = None, **style: Any) -> None:
        for line in textwrap.wrap(text, 78, initial_indent=indent,
                                  subsequent_indent=indent if hang is None else hang) or [""]:
            click.echo(self.style(line, **style) if style else line)

    def resume_hint(self) -> None:
        """The command that continues this consultation, on a line of its own so it can be copied."""
        click.echo(f"  spasm consult --resume {self.path}")

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
                     "tried again after the next answer; the file keeps the answers saved before. To continue "
                     "from those later:", indent="  ", fg="red")
            self.resume_hint()
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
                possible = "POSSIBLE " if flag.status == "possible" else ""
                self.say(f"!!! {possible}{level.label.upper()}: {flag.label}", bold=True, fg=level.terminal_colour)
                self.say(f"{level.meaning} {flag.reason}", indent="    ", fg=level.terminal_colour)
                click.echo()

    def progress(self, question) -> str:
        history = self.c.history
        skipped = sum(1 for _, value in history if value == "unknown")
        answered = len(history) - skipped
        done = (f"{answered} answered" + (f", {skipped} skipped" if skipped else "") + " · ") if history else ""
        more = question.remaining - 1
        return f"[{done}about {more} more question{'s' if more != 1 else ''} after this one]" if more else \
            f"[{done}the last question before the report]"

    def show_question(self, question) -> None:
        click.echo()
        self.say(self.progress(question), dim=True)
        self.say(question.text, bold=True)
        if question.type == "bool":
            self.say("1) yes   2) no      (or y / n)", indent="  ")
        elif question.type == "number":
            examples = {"minutes": "30 s, 2 min, 1 h", "years": "6 months"}.get(question.unit)
            self.say(f"a number{' of ' + question.unit if question.unit else ''}"
                     + (f" (or with a unit: {examples})" if examples else ""), indent="  ")
        else:
            for n, choice in enumerate(question.choices, 1):
                self.say(f"{n}) {choice.label}", indent="  ")
            if question.type in ("set", "checklist"):
                self.say("several allowed (1 3 or names), or none", indent="  ", dim=True)

    def explain(self, question) -> None:
        """Why this question, in plain words: what its answer could still change."""
        self.say(f"Why: this question {question.reason}.", indent="  ")
        if question.help:
            self.say(question.help, indent="  ")
        flags: dict[str, list[str]] = {}
        evidence: dict[str, list[str]] = {"for": [], "against": []}
        for rule in self.c.why(question.id).rules:
            if rule.kind == "evidence":
                side = evidence["for" if rule.effect.startswith("evidence for") else "against"]
                if rule.label not in side:
                    side.append(rule.label)
            elif rule.label not in flags.setdefault(rule.effect, []):
                flags[rule.effect].append(rule.label)
        for effect, labels in flags.items():
            self.say(f"- It {effect}: {_some(labels, '; ')}.", indent="  ", hang="    ")
        sides = [f"{side} {_some(labels, ', ')}" for side, labels in evidence.items() if labels]
        if sides:
            self.say(f"- It is evidence {'; '.join(sides)}.", indent="  ", hang="    ")

    def took_back(self, undone: tuple[str, Any] | None) -> None:
        if undone is None:
            self.say("Nothing to take back.", indent="  ")
            return
        question = undone[0]
        checklist = self.c.kb.interview.checklists.get(question)
        name = checklist.question if checklist else self.c.kb.observations[question].label
        self.say(f"Took back the answer to: {name}", indent="  ")

    def run(self) -> str:
        """Interview until nothing more matters, 'done' or 'quit'; returns how it ended."""
        from expert.errors import CaseError
        self.alert_new_red_flags()
        while True:
            question = self.c.next_question()
            if question is None:
                if self.c.refining or not self.offer_more():
                    return "done"
                continue
            self.show_question(question)
            while True:
                text = read_line("> ")
                if text is None:
                    return "quit"
                command = command_of(question, text)
                if command == "why":
                    self.explain(question)
                    continue
                if command in ("help", "unknown-command") or text == "":
                    self.say(HELP, indent="  ")
                    continue
                if command in ("quit", "done"):
                    return command
                if command == "more":
                    self.c.more()
                    self.say("The interview will keep asking about causes while an answer could change them.",
                             indent="  ")
                    continue
                if command == "back":
                    undone = self.c.undo()
                    self.save()
                    self.took_back(undone)
                    break
                try:
                    value = "unknown" if command == "skip" else parse_answer(question, text)
                    self.check_plausible(question, value)
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

    def check_plausible(self, question, value: Any) -> None:
        obs = self.c.kb.observations.get(question.id)
        if obs is not None and obs.plausible_maximum is not None and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and value > obs.plausible_maximum:
            raise Answer(f"{value:g} {obs.unit} is more than the {obs.plausible_maximum:g} {obs.unit} this question "
                         "expects; check the number and the unit")

    def offer_more(self) -> bool:
        """Nothing more could change the triage or the leading causes: report, or keep refining?"""
        click.echo()
        self.say("Nothing more could change the triage or the leading causes.", bold=True)
        available = self.c.more_available()
        if not available:
            return False
        text = read_line(f"Press Enter for the report, or type more to keep asking about causes "
                         f"({available} more question{'s' if available != 1 else ''}): ")
        if text is not None and text.strip().lower().lstrip(":") == "more":
            self.c.more()
            return True
        return False


@click.command()
@click.option("--resume", "resume", metavar="FILE", type=click.Path(dir_okay=False),
              help="Continue a consultation saved in FILE.")
@click.option("--session", "session_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Save answers to FILE (default: spasm-consult-DATE-TIME.session.json here).")
@click.option("--age", type=float, help="The person's age in years, if already known.")
@click.option("--sex", metavar="SEX", shell_complete=complete_values("sex"),
              help="The person's sex, if already known (female, male or other).")
@click.option("--answers", "answers_file", metavar="CASE", type=click.Path(dir_okay=False),
              help="Preset answers from a case file (JSON or YAML) or a saved session.")
@click.option("-f", "--format", "fmt", type=click.Choice(("text", "markdown", "json", "html")), default="text",
              show_default=True, help="Format of the final report.")
@click.option("-o", "--output", metavar="FILE", help="Also write the final report to FILE.")
@click.option("--ref", metavar="TEXT", help="A patient or clinician reference printed on the report.")
@click.pass_obj
def consult(settings, resume, session_file, age, sex, answers_file, fmt, output, ref) -> None:
    """Run an interview: the core history, then every red-flag question, then the causes.

    Questions come in the order a clinician asks them, related yes/no questions as one
    checklist, and the interview stops when no answer could change the triage or the leading
    causes (type more to keep refining). An urgent finding is shown at once. Every answer is saved
    to a session file as it is given; after quit, Ctrl-C, a crash or a closed terminal, continue
    with --resume FILE. At each question: ? (why), back, skip, done, more, quit.

    \b
    Examples:
      spasm consult
      spasm consult --age 67 --sex female --ref "MRN 12345"
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
            from expert.errors import printable
            click.echo(f"Note: saved with knowledge base {printable(str(data.get('knowledge_version')))}; "
                       f"continuing with {consultation.kb.knowledge_version}.", err=True)
    else:
        if session_file is not None and not session_file.strip():
            raise click.BadParameter("empty file name; name a session file, or leave the option out for one "
                                     "named by the date", param_hint="--session")
        path = os.path.abspath(session_file) if session_file else session.default_path()
        click.get_current_context().call_on_close(session.lock(path).release)
        if os.path.exists(path):
            raise click.UsageError(f"{path} already exists; continue it with --resume {path}, or choose another --session")
        preset: dict[str, Any] = {}
        person: dict[str, Any] = {"age": int(age) if age is not None and float(age).is_integer() else age, "sex": sex}
        if answers_file:
            case = session.read_case(answers_file, settings.expert).to_dict(settings.expert.kb)
            preset = case.pop("answers")
            person = {key: person.get(key) if person.get(key) is not None else value for key, value in case.items()}
        consultation = Consultation(settings.expert, answers=preset, **person)
    if output is not None:  # a report that could not be written at the end would waste the interview
        check_writable(output, inputs=[path] + ([answers_file] if answers_file else []))
    interview = Interview(consultation, path, use_color())
    session.save(path, consultation)  # before any question: a path that cannot be written is refused now
    interview.say("Spasm Expert consultation: decision support, not a diagnosis.", bold=True)
    interview.say(HELP)
    interview.say(f"Answers are saved to {path}")
    try:
        ending = interview.run()
    except KeyboardInterrupt:
        interview.save()
        click.echo()
        interview.say("Interrupted; every answer given is saved. To continue:")
        interview.resume_hint()
        raise click.exceptions.Exit(130) from None
    if ending == "quit":
        if not interview.save():
            raise click.exceptions.Exit(2)
        click.echo()
        interview.say("Saved. To continue:")
        interview.resume_hint()
        return
    interview.save(finished=True)
    click.echo()
    assessment = consultation.assessment()
    emit(render(assessment, "text", color=use_color(), ref=ref, summary_last=True), None)
    if output is not None:
        emit(render(assessment, fmt, ref=ref), output, inputs=[path] + ([answers_file] if answers_file else []))
        click.echo(f"Report written to {output}")
