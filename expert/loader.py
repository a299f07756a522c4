"""Load the YAML knowledge base from a directory, validating everything before anything runs.

Every problem in every file is collected and raised together as one :class:`KnowledgeError`,
each with file, line, field and a hint, so a knowledge author fixes them in one pass.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path as FsPath
from typing import Any, Callable

from . import conditions, parser
from .conditions import Condition
from .documents import Document, NotARegularFile, Path, open_regular, parse_text, read_text
from .errors import KnowledgeError, Problem, described, shown, suggest
from .model import (ACTIONS, KINDS, OBSERVATION_TYPES, REFERABLE, Action, Cause, Checklist, Choice, Citation,
                    Finding, InterviewPlan, KnowledgeBase, Observation, RedFlag, RuleDef, Source, TriageLevel)

SECTIONS = ("knowledge", "sources", "observations", *(kind.section for kind in KINDS.values()), "interview")
#: sections written once, as a mapping rather than a list of items
SINGLE_SECTIONS = ("knowledge", "interview")
GENERAL_SOURCE = "general"
#: The colours a terminal can show (click's names).
TERMINAL_COLOURS = tuple(f"{bright}{name}" for bright in ("", "bright_")
                         for name in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"))
#: MAJOR.MINOR.PATCH, optionally with a pre-release label (2.0.0-rc.1).
VERSION = re.compile(r"(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8})){2}(?:-[0-9A-Za-z][0-9A-Za-z.-]{0,31})?")


def cycles(uses: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle of a dependency graph, as the path that closes it (a -> b -> a); iterative, so
    a long chain cannot exhaust the stack."""
    found: list[list[str]] = []
    done: set[str] = set()
    for start in uses:
        if start in done:
            continue
        trail, at, pending = [start], {start: 0}, [iter(uses[start])]  # at: position on the trail
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                pending.pop()
                done.add(trail[-1])
                del at[trail.pop()]
            elif nxt in at:
                found.append(trail[at[nxt]:] + [nxt])
            elif nxt not in done and nxt in uses:
                at[nxt] = len(trail)
                trail.append(nxt)
                pending.append(iter(uses[nxt]))
    return found


def read_knowledge_file(path: FsPath) -> tuple[Document, str]:
    """Read one knowledge file; anything but a regular file (or a link to one) is refused unread.

    It is opened without blocking (a FIFO would wait for a writer) and checked once open, so it
    cannot be swapped between the check and the read.
    """
    name = str(path)
    try:
        stream = open_regular(name)
    except NotARegularFile as exc:
        raise KnowledgeError(Problem(f"is {exc.kind}, not a knowledge file", file=name,
                                     hint="every .yaml or .yml entry of the knowledge directory must be a file")) from None
    except FileNotFoundError:
        message = "is a symbolic link to a missing file" if path.is_symlink() else "file not found"
        raise KnowledgeError(Problem(message, file=name, hint="remove it or point it at a knowledge file")) from None
    except OSError as exc:
        raise KnowledgeError(Problem(f"cannot read file: {exc.strerror}", file=name)) from None
    with stream:
        text = read_text(stream, name, KnowledgeError)
    return parse_text(text, name, KnowledgeError), text


def default_directory() -> FsPath:
    """The knowledge base shipped with the package."""
    from . import knowledge
    return FsPath(knowledge.__file__).parent


class _Reader:
    """Field-by-field checks on one YAML mapping, appending problems instead of stopping."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def fail(self, doc: Document, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(doc.problem(path, message, hint))

    def mapping(self, doc: Document, path: Path, data: Any, required: tuple, optional: tuple) -> dict | None:
        if not isinstance(data, dict):
            self.fail(doc, path, f"expected a mapping with {', '.join(required)}")
            return None
        ok = True
        for name in required:
            if name not in data:
                self.fail(doc, path, f"missing required field {name!r}")
                ok = False
        for name in data:
            if name not in required and name not in optional:
                self.fail(doc, path + (name,), f"unknown field {name!r}",
                          suggest(name, list(required) + list(optional)))
                ok = False
        return data if ok else None

    def text(self, doc: Document, path: Path, value: Any) -> str | None:
        """Required text: a non-empty string."""
        if not isinstance(value, str) or not value.strip():
            self.fail(doc, path, f"expected non-empty text, got {described(value)}")
            return None
        return value.strip()

    def optional_text(self, doc: Document, path: Path, data: dict) -> str:
        """An optional text field of ``data`` (the last part of ``path``): "" when absent."""
        value = data.get(path[-1])
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(doc, path, f"expected text, got {described(value)}",
                      "quote it if it is meant as text" if not isinstance(value, (list, dict)) else None)
            return ""
        return value.strip()

    def identifier(self, doc: Document, path: Path, value: Any) -> str | None:
        if not isinstance(value, str):
            self.fail(doc, path, f"expected an id, got {described(value)}",
                      "ids are lower-case letters, digits, '_' and '-', starting with a letter")
            return None
        if not value.replace("_", "a").replace("-", "a").isalnum() or not value[:1].isalpha() \
                or value.lower() != value:
            self.fail(doc, path, f"{value!r} is not a valid id",
                      "ids are lower-case letters, digits, '_' and '-', starting with a letter")
            return None
        return value

    def choice(self, doc: Document, path: Path, value: Any, allowed: Any, what: str) -> str | None:
        """One of the ``allowed`` words (ids); ``what`` names the field in the message."""
        if isinstance(value, str) and value in allowed:
            return value
        article = "an" if what[0] in "aeiou" else "a"
        self.fail(doc, path, f"unknown {what} {value!r}" if isinstance(value, str)
                  else f"expected {article} {what}, got {described(value)}", f"allowed: {', '.join(allowed)}")
        return None

    def number(self, doc: Document, path: Path, value: Any, low: float, high: float) -> float | None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            self.fail(doc, path, f"expected a number from {low:g} to {high:g}, got "
                      + (repr(value) if isinstance(value, str) else described(value)))
            return None
        return float(value)


class _Loader:
    def __init__(self, directory: FsPath):
        self.directory = directory
        self.problems: list[Problem] = []
        self.read = _Reader(self.problems)
        self.items: dict[str, list[tuple[Document, Path, Any]]] = {name: [] for name in SECTIONS}
        self.ids_seen: dict[tuple[str, str], Problem] = {}
        self.broken: set[str] = set()  # ids of observations that failed validation (already reported)
        #: ids of sources and triage levels that failed validation: what cites them is not reported again
        self.broken_sources: set[str] = set()
        self.broken_levels: set[str] = set()

    # ------------------------------------------------------------------ files and sections
    def load_files(self) -> tuple[list[FsPath], str]:
        if not self.directory.is_dir():
            raise KnowledgeError(Problem("knowledge directory not found", file=str(self.directory)))
        try:
            files = sorted(p for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml"))
        except OSError as exc:
            raise KnowledgeError(Problem(f"cannot list the knowledge directory: {exc.strerror}",
                                         file=str(self.directory))) from None
        if not files:
            raise KnowledgeError(Problem("no .yaml files in the knowledge directory", file=str(self.directory)))
        digest = hashlib.sha256()
        for path in files:
            try:
                doc, text = read_knowledge_file(path)
            except KnowledgeError as exc:
                self.problems.extend(exc.problems)
                continue
            digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
            self.split_sections(doc)
        return files, digest.hexdigest()

    def split_sections(self, doc: Document) -> None:
        if doc.data is None:
            return
        if not isinstance(doc.data, dict):
            self.read.fail(doc, (), "a knowledge file is a mapping of sections",
                           f"sections: {', '.join(SECTIONS)}")
            return
        for section, entries in doc.data.items():
            if section not in SECTIONS:
                self.read.fail(doc, (section,), f"unknown section {section!r}", suggest(section, SECTIONS))
            elif section in SINGLE_SECTIONS:
                self.items[section].append((doc, (section,), entries))
            elif not isinstance(entries, list):
                self.read.fail(doc, (section,), "expected a list of items")
            else:
                self.items[section].extend((doc, (section, i), item) for i, item in enumerate(entries))

    def unique(self, doc: Document, path: Path, space: str, item_id: str) -> bool:
        """Ids are unique within observations, within sources, and across all conclusions."""
        key = (space, item_id)
        if key in self.ids_seen:
            first = self.ids_seen[key]
            self.read.fail(doc, path, f"duplicate id {item_id!r}",
                           f"first defined at {first.file}:{first.line}")
            return False
        self.ids_seen[key] = doc.problem(path, "")
        return True

    # ------------------------------------------------------------------------- manifest
    def manifest(self) -> tuple[str, str, str, dict[str, TriageLevel]]:
        entries = self.items["knowledge"]
        if len(entries) != 1:
            where = ", ".join(f"{d.file}:{d.line(p)}" for d, p, _ in entries) or "no file"
            self.problems.append(Problem("exactly one file must have a 'knowledge' section "
                                         "(name, version, disclaimer, triage_levels)",
                                         file=str(self.directory), hint=f"found in: {where}"))
            return "", "0", "", {}
        doc, path, data = entries[0]
        self.read.mapping(doc, path, data, ("name", "version", "disclaimer", "triage_levels"), ())
        if not isinstance(data, dict):
            return "", "0", "", {}
        # each field present is read even when another is missing: one mistake, one problem
        name = self.read.text(doc, path + ("name",), data["name"]) if "name" in data else None
        version = data.get("version")
        if "version" in data:
            self.version(doc, path + ("version",), version)
        disclaimer = self.read.text(doc, path + ("disclaimer",), data["disclaimer"]) if "disclaimer" in data else None
        levels = self.triage_levels(doc, path + ("triage_levels",), data["triage_levels"]) \
            if "triage_levels" in data else {}
        return name or "", str(version), disclaimer or "", levels

    def version(self, doc: Document, path: Path, version: Any) -> None:
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            self.read.fail(doc, path, f"version must be quoted text such as \"1.2.0\", got {described(version)}",
                           "unquoted, YAML reads a number: 1.10 becomes 1.1; write version: \"1.10.0\"")
        elif not isinstance(version, str) or not VERSION.fullmatch(version):
            self.read.fail(doc, path, f"version must be a version such as 1.2.0, got {shown(version)}",
                           "MAJOR.MINOR.PATCH, whole numbers, optionally followed by a label such as -rc.1")

    def triage_levels(self, doc: Document, path: Path, raw: Any) -> dict[str, TriageLevel]:
        """The triage levels, most urgent first, and how each is shown."""
        if not isinstance(raw, list) or not raw:
            self.read.fail(doc, path, "expected a list of triage levels, most urgent first",
                           "e.g. - {id: urgent, label: Urgent, meaning: Seek medical help today.}")
            return {}
        levels: dict[str, TriageLevel] = {}
        optional = ("colour", "tint", "terminal_colour", "interrupts")
        for i, entry in enumerate(raw):
            where, before = path + (i,), len(self.problems)
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                self.broken_levels.add(entry["id"])  # until it proves valid
            entry = self.read.mapping(doc, where, entry, ("id", "label", "meaning"), optional)
            if not entry or not self.read.identifier(doc, where + ("id",), entry["id"]):
                continue
            if entry["id"] in levels:
                self.read.fail(doc, where + ("id",), f"triage level {entry['id']!r} is listed twice")
                continue
            colours = {name: entry[name] for name in ("colour", "tint") if name in entry}
            for name, colour in colours.items():
                if not isinstance(colour, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
                    self.read.fail(doc, where + (name,), f"{colour!r} is not a colour" if isinstance(colour, str)
                                   else f"expected a colour, got {described(colour)}", "write it as #rrggbb")
            terminal = entry.get("terminal_colour")
            if terminal is not None:
                terminal = self.read.choice(doc, where + ("terminal_colour",), terminal, TERMINAL_COLOURS,
                                            "terminal colour")
            interrupts = entry.get("interrupts", False)
            if not isinstance(interrupts, bool):
                self.read.fail(doc, where + ("interrupts",), f"expected true or false, got {described(interrupts)}")
            label = self.read.text(doc, where + ("label",), entry["label"])
            meaning = self.read.text(doc, where + ("meaning",), entry["meaning"])
            if label and meaning and len(self.problems) == before:
                self.broken_levels.discard(entry["id"])
                levels[entry["id"]] = TriageLevel(entry["id"], label, meaning, terminal_colour=terminal,
                                                  interrupts=bool(interrupts), **colours)
        return levels

    # -------------------------------------------------------------------------- sources
    def sources(self) -> dict[str, Source]:
        result: dict[str, Source] = {}
        for doc, path, data in self.items["sources"]:
            before = len(self.problems)
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                self.broken_sources.add(data["id"])  # until it proves valid
            data = self.read.mapping(doc, path, data, ("id", "title", "publisher"), ("kind", "file", "note"))
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            kind = self.read.choice(doc, path + ("kind",), data.get("kind", "document"),
                                    ("document", GENERAL_SOURCE), "source kind")
            title = self.read.text(doc, path + ("title",), data["title"])
            publisher = self.read.text(doc, path + ("publisher",), data["publisher"])
            file = self.read.optional_text(doc, path + ("file",), data) or None
            note = self.read.optional_text(doc, path + ("note",), data)
            if len(self.problems) == before and kind and title and publisher \
                    and self.unique(doc, path, "source", data["id"]):
                self.broken_sources.discard(data["id"])
                result[data["id"]] = Source(data["id"], title, publisher, kind, file, note)
        return result

    def citations(self, doc: Document, path: Path, data: Any, sources: dict[str, Source],
                  provenance: str) -> tuple[Citation, ...]:
        if not isinstance(data, list) or not data:
            self.read.fail(doc, path, "cite at least one source" if data in (None, [])
                           else f"expected a list of source ids, got {described(data)}",
                           f"known sources: {', '.join(sources)}")
            return ()
        result = []
        for i, entry in enumerate(data):
            section = None
            if isinstance(entry, dict):
                entry = self.read.mapping(doc, path + (i,), entry, ("source",), ("section",))
                if entry is None:
                    continue
                section = self.read.optional_text(doc, path + (i, "section"), entry) or None
                entry = entry["source"]
            if not (isinstance(entry, str) and entry in sources):
                if not (isinstance(entry, str) and entry in self.broken_sources):  # else reported where defined
                    self.read.fail(doc, path + (i,), f"unknown source {entry!r}" if isinstance(entry, str)
                                   else f"expected a source id, got {described(entry)}", suggest(entry, list(sources)))
                continue
            if sources[entry].kind == GENERAL_SOURCE and not provenance:
                self.read.fail(doc, path + (i,), f"citing {entry!r} needs a provenance field",
                               "say which general clinical knowledge the item rests on")
            result.append(Citation(entry, section))
        return tuple(result)

    # --------------------------------------------------------------------- observations
    def observations(self) -> dict[str, Observation]:
        result: dict[str, Observation] = {}
        self.ask_when: dict[str, tuple[Document, Path, Any]] = {}
        optional = ("help", "group", "values", "minimum", "maximum", "plausible_maximum", "unit", "ask_when",
                    "top_level")
        for doc, path, data in self.items["observations"]:
            before = len(self.problems)
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                self.broken.add(data["id"])  # until it proves valid
            data = self.read.mapping(doc, path, data, ("id", "type", "label", "question"), optional)
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            kind = self.read.choice(doc, path + ("type",), data["type"], OBSERVATION_TYPES, "type")
            if kind is None:
                continue
            choices = self.choices(doc, path, data, kind)
            if choices is None:
                continue
            minimum = self.read.number(doc, path + ("minimum",), data.get("minimum", 0), 0, 1e9)
            maximum = data.get("maximum")
            if maximum is not None:
                maximum = self.read.number(doc, path + ("maximum",), maximum, minimum or 0, 1e9)
            plausible = data.get("plausible_maximum")
            if plausible is not None and kind != "number":
                self.read.fail(doc, path + ("plausible_maximum",), "only a number has a plausible maximum")
                plausible = None
            elif plausible is not None:
                plausible = self.read.number(doc, path + ("plausible_maximum",), plausible, minimum or 0,
                                             maximum if maximum is not None else 1e9)
            label = self.read.text(doc, path + ("label",), data["label"])
            question = self.read.text(doc, path + ("question",), data["question"])
            help_text = self.read.optional_text(doc, path + ("help",), data)
            unit = self.read.optional_text(doc, path + ("unit",), data)
            group = data.get("group")
            if group is not None:
                group = self.read.identifier(doc, path + ("group",), group)
            top_level = data.get("top_level", False)
            if not isinstance(top_level, bool):
                self.read.fail(doc, path + ("top_level",), f"expected true or false, got {described(top_level)}")
            if len(self.problems) > before or not self.unique(doc, path, "observation", data["id"]):
                continue
            self.broken.discard(data["id"])
            if "ask_when" in data:
                self.ask_when[data["id"]] = (doc, path + ("ask_when",), data["ask_when"])
            result[data["id"]] = Observation(
                id=data["id"], type=kind, label=label, question=question,  # type: ignore[arg-type]
                help=help_text, group=group or "", choices=choices, minimum=minimum,  # type: ignore[arg-type]
                maximum=maximum, plausible_maximum=plausible, unit=unit, top_level=top_level)
        return result

    def choices(self, doc: Document, path: Path, data: dict, kind: str) -> tuple[Choice, ...] | None:
        values = data.get("values")
        if kind in ("bool", "number"):
            if values is not None:
                self.read.fail(doc, path + ("values",), f"a {kind} observation has no list of values")
                return None
            return (Choice(True, "yes"), Choice(False, "no")) if kind == "bool" else ()
        if not isinstance(values, list) or not values:
            self.read.fail(doc, path + ("values",), f"a {kind} observation needs a list of values",
                           "e.g. - {id: calf, label: Calf}")
            return None
        result, seen = [], set()
        for i, entry in enumerate(values):
            entry = self.read.mapping(doc, path + ("values", i), entry, ("id", "label"), ())
            if not entry or not self.read.identifier(doc, path + ("values", i, "id"), entry["id"]):
                return None
            if entry["id"] == "unknown" or entry["id"] in seen:
                self.read.fail(doc, path + ("values", i, "id"), f"value {entry['id']!r} is reserved or repeated")
                return None
            seen.add(entry["id"])
            label = self.read.text(doc, path + ("values", i, "label"), entry["label"])
            if label is None:
                return None
            result.append(Choice(entry["id"], label))
        return tuple(result)

    # ------------------------------------------------------------------------ conditions
    def condition(self, doc: Document, path: Path, data: Any, kind: str, vocabulary: parser.Vocabulary) -> Condition | None:
        before = len(self.problems)
        parsed = parser.parse(data, path, doc, vocabulary, self.problems)
        if parsed is None:
            if len(self.problems) == before:  # pragma: no cover - the parser always says why
                self.read.fail(doc, path, "invalid condition")
            return None
        closed_world = kind in KINDS and KINDS[kind].layer == ACTIONS  # earlier layers are complete by then
        title = KINDS[kind].title if kind in KINDS else kind.replace("_", " ")
        if not closed_world and any(isinstance(node, conditions.Unless) for node in parsed.nodes()):
            self.read.fail(doc, path, f"unless is for advice and tests; a {title} rule uses not",
                           "not needs answers that rule the condition out, so conclusions never vanish "
                           "as more answers arrive")
            return None
        allowed_kinds = KINDS[kind].references if kind in KINDS else ()
        for ref in conditions.references_in(parsed):
            if ref.kind not in allowed_kinds:
                allowed = ", ".join(("observations",) + tuple(k.replace("_", " ") + "s" for k in allowed_kinds))
                self.read.fail(doc, path, f"a {title} rule cannot refer to a {ref.kind.replace('_', ' ')}",
                               f"it may use {allowed}")
                return None
        return parsed

    def rule(self, doc: Document, path: Path, data: dict, *, kind: str, rule_id: str, target: str,
             vocabulary: parser.Vocabulary, sources: dict[str, Source], cf: float = 0.0, label: str = "") -> RuleDef | None:
        provenance = self.read.optional_text(doc, path + ("provenance",), data)
        note = self.read.optional_text(doc, path + ("note",), data)
        citations = self.citations(doc, path + ("sources",), data.get("sources"), sources, provenance)
        when = self.condition(doc, path + ("when",), data.get("when"), kind, vocabulary) if "when" in data else None
        if "when" not in data:
            self.read.fail(doc, path, "missing required field 'when'")
        if when is None or not citations or not self.unique(doc, path, "rule", rule_id):
            return None
        return RuleDef(id=rule_id, kind=kind, target=target, when=when, sources=citations, cf=cf, label=label,
                       note=note, provenance=provenance,
                       file=doc.file, line=doc.line(path))

    def conclusions(self, observations: dict[str, Observation], sources: dict[str, Source],
                    levels: dict[str, TriageLevel]) -> dict:
        """Parse findings, causes, red flags, advice and tests, whose conditions may refer to each other."""
        # a broken triage level is reported where it is defined: using one is not a second problem
        known: dict[str, list[str]] = {"triage": list(levels) + sorted(self.broken_levels - set(levels))}
        for name, kind in KINDS.items():
            if name in REFERABLE:
                known[name] = [d["id"] for _, _, d in self.items[kind.section]
                               if isinstance(d, dict) and isinstance(d.get("id"), str)]
        vocabulary = parser.Vocabulary(observations, known, frozenset(self.broken))
        rule_fields = ("note", "provenance")
        result: dict[str, dict[str, Any]] = {kind.section: {} for kind in KINDS.values()}

        for doc, path, data in self.items["findings"]:
            data = self.read.mapping(doc, path, data, ("id", "label", "when", "sources"), rule_fields + ("description",))
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            if not self.unique(doc, path, "conclusion", data["id"]):
                continue
            label = self.read.text(doc, path + ("label",), data["label"])
            description = self.read.optional_text(doc, path + ("description",), data)
            rule = self.rule(doc, path, data, kind="finding", rule_id=f"finding.{data['id']}", target=data["id"],
                             vocabulary=vocabulary, sources=sources, label=label or "")
            if rule and label:
                result["findings"][data["id"]] = Finding(data["id"], label, rule, description)

        for doc, path, data in self.items["red_flags"]:
            data = self.read.mapping(doc, path, data, ("id", "label", "level", "reason", "when", "sources"), rule_fields)
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            level = data["level"]
            if not (isinstance(level, str) and level in self.broken_levels):
                level = self.read.choice(doc, path + ("level",), level, list(levels), "triage level")
            label = self.read.text(doc, path + ("label",), data["label"])
            reason = self.read.text(doc, path + ("reason",), data["reason"])
            if not (level and label and reason) or not self.unique(doc, path, "conclusion", data["id"]):
                continue
            rule = self.rule(doc, path, data, kind="red_flag", rule_id=f"red_flag.{data['id']}", target=data["id"],
                             vocabulary=vocabulary, sources=sources, label=label)
            if rule:
                result["red_flags"][data["id"]] = RedFlag(data["id"], label, level, reason, rule)

        for doc, path, data in self.items["causes"]:
            cause = self.cause(doc, path, data, vocabulary, sources)
            if cause:
                result["causes"][cause.id] = cause

        for section, action in (("advice", "advice"), ("tests", "test")):
            for doc, path, data in self.items[section]:
                data = self.read.mapping(doc, path, data, ("id", "text", "when", "sources"), rule_fields + ("audience",))
                if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                    continue
                audience = self.read.choice(doc, path + ("audience",),
                                            data.get("audience", "person" if action == "advice" else "clinician"),
                                            ("person", "clinician"), "audience")
                if audience is None:
                    continue
                text = self.read.text(doc, path + ("text",), data["text"])
                if not text or not self.unique(doc, path, "conclusion", data["id"]):
                    continue
                rule = self.rule(doc, path, data, kind=action, rule_id=f"{action}.{data['id']}", target=data["id"],
                                 vocabulary=vocabulary, sources=sources, label=text)
                if rule:
                    result[section][data["id"]] = Action(data["id"], action, text, audience, rule)
        return result

    def cause(self, doc: Document, path: Path, data: Any, vocabulary: parser.Vocabulary,
              sources: dict[str, Source]) -> Cause | None:
        data = self.read.mapping(doc, path, data, ("id", "label", "description", "sources", "for"),
                                 ("against", "provenance"))
        if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
            return None
        cause_id = data["id"]
        label = self.read.text(doc, path + ("label",), data["label"])
        description = self.read.text(doc, path + ("description",), data["description"])
        provenance = self.read.optional_text(doc, path + ("provenance",), data)
        citations = self.citations(doc, path + ("sources",), data["sources"], sources, provenance)
        if not self.unique(doc, path, "conclusion", cause_id):
            return None
        evidence: list[RuleDef] = []
        for polarity in ("for", "against"):
            entries = data.get(polarity, [])
            if not isinstance(entries, list) or (polarity == "for" and not entries):
                self.read.fail(doc, path + (polarity,), "expected a list of evidence rules"
                               + (" (a cause needs at least one)" if polarity == "for" else ""))
                continue
            for i, entry in enumerate(entries):
                where = path + (polarity, i)
                entry = self.read.mapping(doc, where, entry, ("id", "cf", "when", "sources"),
                                          ("label", "note", "provenance"))
                if not entry or not self.read.identifier(doc, where + ("id",), entry["id"]):
                    continue
                cf = self.read.number(doc, where + ("cf",), entry["cf"], 0.01, 1.0)
                if cf is None:
                    continue
                rule = self.rule(doc, where, entry, kind="cause", rule_id=f"cause.{cause_id}.{entry['id']}",
                                 target=cause_id, vocabulary=vocabulary, sources=sources,
                                 cf=cf if polarity == "for" else -cf,
                                 label=self.read.optional_text(doc, where + ("label",), entry))
                if rule:
                    evidence.append(rule)
        if not label or not description or not citations:
            return None
        return Cause(cause_id, label, description, citations, tuple(evidence), provenance)

    def ask_when_conditions(self, observations: dict[str, Observation]) -> None:
        """Parse each ask_when; a question waiting on itself, even through others, is never asked."""
        vocabulary = parser.Vocabulary(observations, {}, frozenset(self.broken))
        uses: dict[str, list[str]] = {}
        for obs_id, (doc, path, data) in self.ask_when.items():
            parsed = self.condition(doc, path, data, "ask_when", vocabulary)
            if parsed is not None and obs_id in set(conditions.observations_in(parsed)):
                self.read.fail(doc, path, "an observation's ask_when cannot depend on itself")
            elif parsed is not None:
                observations[obs_id] = replace(observations[obs_id], ask_when=parsed)
                uses[obs_id] = list(dict.fromkeys(conditions.observations_in(parsed)))
        for cycle in cycles(uses):
            doc, path, _ = self.ask_when[cycle[0]]
            self.read.fail(doc, path, "ask_when conditions depend on each other in a cycle: " + " -> ".join(cycle),
                           "none of these questions would ever be asked; an ask_when cannot depend on itself, "
                           "even through other questions")

    def interview(self, observations: dict[str, Observation]) -> InterviewPlan:
        """The interview plan: checklists of yes/no observations, and the core questions' order."""
        entries = self.items["interview"]
        if not entries:
            return InterviewPlan()
        if len(entries) > 1:
            doc, path, _ = entries[1]
            self.read.fail(doc, path, "the interview section is written once")
        doc, path, data = entries[0]
        data = self.read.mapping(doc, path, data, (), ("core", "checklists"))
        if data is None:
            return InterviewPlan()
        checklists: dict[str, Checklist] = {}
        placed: dict[str, str] = {}
        raw = data.get("checklists", [])
        for i, entry in enumerate(raw if isinstance(raw, list) else []):
            where = path + ("checklists", i)
            entry = self.read.mapping(doc, where, entry, ("id", "question", "observations"), ("help",))
            if not entry or not self.read.identifier(doc, where + ("id",), entry["id"]):
                continue
            if entry["id"] in observations or entry["id"] in checklists:
                self.read.fail(doc, where + ("id",), f"{entry['id']!r} is already the id of an observation or checklist")
                continue
            members = entry["observations"]
            if not isinstance(members, list) or len(members) < 2:
                self.read.fail(doc, where + ("observations",), "a checklist lists at least two yes/no observations")
                continue
            good = True
            for j, obs_id in enumerate(members):
                obs = observations.get(obs_id) if isinstance(obs_id, str) else None
                if isinstance(obs_id, str) and obs_id in self.broken:  # already reported
                    good = False
                elif obs is None or obs.type != "bool":
                    good = False
                    self.read.fail(doc, where + ("observations", j), f"{obs_id!r} is not a yes/no observation",
                                   suggest(obs_id, [o.id for o in observations.values() if o.type == "bool"]))
                elif obs.id in placed:
                    good = False
                    self.read.fail(doc, where + ("observations", j), f"{obs_id} is already in checklist {placed[obs_id]}")
            question = self.read.text(doc, where + ("question",), entry["question"])
            if good and question:
                placed.update((obs_id, entry["id"]) for obs_id in members)
                checklists[entry["id"]] = Checklist(entry["id"], question, tuple(members),
                                                    self.read.optional_text(doc, where + ("help",), entry))
        if raw is not None and not isinstance(raw, list):
            self.read.fail(doc, path + ("checklists",), "expected a list of checklists")
        core = data.get("core", [])
        if not isinstance(core, list):
            self.read.fail(doc, path + ("core",), "expected a list of observation or checklist ids")
            core = []
        known = []
        for i, item in enumerate(core):
            if not isinstance(item, str):
                self.read.fail(doc, path + ("core", i), f"expected an observation or checklist id, got {item!r}")
            elif item in observations or item in checklists:
                known.append(item)
            elif item not in self.broken:
                self.read.fail(doc, path + ("core", i), f"unknown observation or checklist {item!r}",
                               suggest(item, [*observations, *checklists]))
        return InterviewPlan(tuple(known), checklists)

    def finding_cycles(self, findings: dict[str, Finding]) -> None:
        """Findings may build on findings, but never on themselves, however indirectly."""
        uses = {f.id: [str(r.target) for r in conditions.references_in(f.rule.when) if r.kind == "finding"]
                for f in findings.values()}
        for cycle in cycles(uses):
            rule = findings[cycle[0]].rule
            self.problems.append(Problem("findings refer to each other in a cycle: " + " -> ".join(cycle),
                                         field=f"findings.{cycle[0]}.when", file=rule.file, line=rule.line,
                                         hint="a finding cannot depend on itself, even through others"))


def load(directory: str | os.PathLike | None = None) -> KnowledgeBase:
    """Load and validate a knowledge directory (the shipped one by default)."""
    loader = _Loader(FsPath(directory) if directory is not None else default_directory())
    files, digest = loader.load_files()
    if loader.problems:  # a file that cannot be read hides its ids: checking references now would only cascade
        raise KnowledgeError(loader.problems)
    name, version, disclaimer, levels = loader.manifest()
    if not levels:  # reported; every rule using a triage level would only repeat it
        raise KnowledgeError(loader.problems)
    sources = loader.sources()
    observations = loader.observations()
    loader.ask_when_conditions(observations)
    parts = loader.conclusions(observations, sources, levels)
    loader.finding_cycles(parts["findings"])
    interview = loader.interview(observations)
    if loader.problems:
        order: Callable[[Problem], tuple] = lambda p: (p.file or "", p.line or 0)
        raise KnowledgeError(sorted(loader.problems, key=order))
    return KnowledgeBase(name=name, version=version, digest=digest, disclaimer=disclaimer, triage_levels=levels,
                         sources=sources, observations=observations, findings=parts["findings"],
                         causes=parts["causes"], red_flags=parts["red_flags"], advice=parts["advice"],
                         tests=parts["tests"], files=tuple(str(f) for f in files), interview=interview)
