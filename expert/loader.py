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
from .documents import Document, Path, read_file
from .errors import KnowledgeError, Problem, shown, suggest
from .model import (ACTIONS, KINDS, OBSERVATION_TYPES, REFERABLE, Action, Cause, Checklist, Choice, Citation,
                    Finding, InterviewPlan, KnowledgeBase, Observation, RedFlag, RuleDef, Source, TriageLevel)

SECTIONS = ("knowledge", "sources", "observations", *(kind.section for kind in KINDS.values()), "interview")
#: sections written once, as a mapping rather than a list of items
SINGLE_SECTIONS = ("knowledge", "interview")
GENERAL_SOURCE = "general"
#: The colours a terminal can show (click's names).
TERMINAL_COLOURS = tuple(f"{bright}{name}" for bright in ("", "bright_")
                         for name in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"))


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

    def text(self, doc: Document, path: Path, value: Any, default: str | None = None) -> str | None:
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(doc, path, f"expected non-empty text, got {value!r}")
            return None
        return value.strip()

    def identifier(self, doc: Document, path: Path, value: Any) -> str | None:
        if not isinstance(value, str) or not value.replace("_", "a").replace("-", "a").isalnum() \
                or not value[:1].isalpha() or value.lower() != value:
            self.fail(doc, path, f"{value!r} is not a valid id",
                      "ids are lower-case letters, digits, '_' and '-', starting with a letter")
            return None
        return value

    def number(self, doc: Document, path: Path, value: Any, low: float, high: float) -> float | None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            self.fail(doc, path, f"expected a number from {low:g} to {high:g}, got {value!r}")
            return None
        return float(value)


class _Loader:
    def __init__(self, directory: FsPath):
        self.directory = directory
        self.problems: list[Problem] = []
        self.read = _Reader(self.problems)
        self.items: dict[str, list[tuple[Document, Path, Any]]] = {name: [] for name in SECTIONS}
        self.ids_seen: dict[tuple[str, str], Problem] = {}
        self.broken: set[str] = set()  # ids of items that failed validation (already reported)

    # ------------------------------------------------------------------ files and sections
    def load_files(self) -> tuple[list[FsPath], str]:
        if not self.directory.is_dir():
            raise KnowledgeError(Problem("knowledge directory not found", file=str(self.directory)))
        files = sorted(p for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise KnowledgeError(Problem("no .yaml files in the knowledge directory", file=str(self.directory)))
        digest = hashlib.sha256()
        for path in files:
            try:
                doc = read_file(path, KnowledgeError)
            except KnowledgeError as exc:
                self.problems.extend(exc.problems)
                continue
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
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
        data = self.read.mapping(doc, path, data, ("name", "version", "disclaimer", "triage_levels"), ()) or {}
        name = self.read.text(doc, path + ("name",), data.get("name")) or ""
        version = data.get("version", "0")
        if isinstance(version, bool) or not isinstance(version, (str, int, float)) \
                or not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}", str(version)):
            self.read.fail(doc, path + ("version",), f"version must be a version such as 1.2.0, got {shown(version)}",
                           "a number, or letters, digits, '.', '+' and '-' (at most 64)")
        version = str(version)
        disclaimer = self.read.text(doc, path + ("disclaimer",), data.get("disclaimer")) or ""
        levels = self.triage_levels(doc, path + ("triage_levels",), data.get("triage_levels")) if data else {}
        return name, version, disclaimer, levels

    def triage_levels(self, doc: Document, path: Path, raw: Any) -> dict[str, TriageLevel]:
        """The triage levels, most urgent first, and how each is shown."""
        if not isinstance(raw, list) or not raw:
            self.read.fail(doc, path, "expected a list of triage levels, most urgent first",
                           "e.g. - {id: urgent, label: Urgent, meaning: Seek medical help today.}")
            return {}
        levels: dict[str, TriageLevel] = {}
        optional = ("colour", "tint", "terminal_colour", "interrupts")
        for i, entry in enumerate(raw):
            where = path + (i,)
            entry = self.read.mapping(doc, where, entry, ("id", "label", "meaning"), optional)
            if not entry or not self.read.identifier(doc, where + ("id",), entry["id"]):
                continue
            if entry["id"] in levels:
                self.read.fail(doc, where + ("id",), f"triage level {entry['id']!r} is listed twice")
                continue
            shown = {name: entry[name] for name in ("colour", "tint") if name in entry}
            for name, colour in shown.items():
                if not isinstance(colour, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
                    self.read.fail(doc, where + (name,), f"{colour!r} is not a colour", "write it as #rrggbb")
            terminal = entry.get("terminal_colour")
            if terminal is not None and terminal not in TERMINAL_COLOURS:
                self.read.fail(doc, where + ("terminal_colour",), f"unknown terminal colour {terminal!r}",
                               suggest(terminal, TERMINAL_COLOURS))
            interrupts = entry.get("interrupts", False)
            if not isinstance(interrupts, bool):
                self.read.fail(doc, where + ("interrupts",), f"expected true or false, got {interrupts!r}")
            label = self.read.text(doc, where + ("label",), entry["label"])
            meaning = self.read.text(doc, where + ("meaning",), entry["meaning"])
            if label and meaning:
                levels[entry["id"]] = TriageLevel(entry["id"], label, meaning, terminal_colour=terminal,
                                                  interrupts=bool(interrupts), **shown)
        return levels

    # -------------------------------------------------------------------------- sources
    def sources(self) -> dict[str, Source]:
        result: dict[str, Source] = {}
        for doc, path, data in self.items["sources"]:
            data = self.read.mapping(doc, path, data, ("id", "title", "publisher"), ("kind", "file", "note"))
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            kind = data.get("kind", "document")
            if kind not in ("document", GENERAL_SOURCE):
                self.read.fail(doc, path + ("kind",), f"unknown source kind {kind!r}", "allowed: document, general")
                continue
            title = self.read.text(doc, path + ("title",), data["title"])
            publisher = self.read.text(doc, path + ("publisher",), data["publisher"])
            if title and publisher and self.unique(doc, path, "source", data["id"]):
                result[data["id"]] = Source(data["id"], title, publisher, kind, data.get("file"),
                                            str(data.get("note", "")).strip())
        return result

    def citations(self, doc: Document, path: Path, data: Any, sources: dict[str, Source],
                  provenance: str) -> tuple[Citation, ...]:
        if not isinstance(data, list) or not data:
            self.read.fail(doc, path, "cite at least one source", f"known sources: {', '.join(sources)}")
            return ()
        result = []
        for i, entry in enumerate(data):
            section = None
            if isinstance(entry, dict):
                entry = self.read.mapping(doc, path + (i,), entry, ("source",), ("section",))
                if entry is None:
                    continue
                section = str(entry["section"]) if entry.get("section") else None
                entry = entry["source"]
            if entry not in sources:
                self.read.fail(doc, path + (i,), f"unknown source {entry!r}", suggest(entry, list(sources)))
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
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                self.broken.add(data["id"])  # until it proves valid
            data = self.read.mapping(doc, path, data, ("id", "type", "label", "question"), optional)
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            kind = data["type"]
            if kind not in OBSERVATION_TYPES:
                self.read.fail(doc, path + ("type",), f"unknown type {kind!r}",
                               f"allowed: {', '.join(OBSERVATION_TYPES)}")
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
            if None in (label, question, minimum) or not self.unique(doc, path, "observation", data["id"]):
                continue
            self.broken.discard(data["id"])
            if "ask_when" in data:
                self.ask_when[data["id"]] = (doc, path + ("ask_when",), data["ask_when"])
            result[data["id"]] = Observation(
                id=data["id"], type=kind, label=label, question=question,  # type: ignore[arg-type]
                help=str(data.get("help", "")).strip(), group=str(data.get("group", "")),
                choices=choices, minimum=minimum, maximum=maximum, plausible_maximum=plausible,  # type: ignore[arg-type]
                unit=str(data.get("unit", "")), top_level=bool(data.get("top_level", False)))
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
            result.append(Choice(entry["id"], str(entry["label"])))
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
        provenance = str(data.get("provenance", "")).strip()
        citations = self.citations(doc, path + ("sources",), data.get("sources"), sources, provenance)
        when = self.condition(doc, path + ("when",), data.get("when"), kind, vocabulary) if "when" in data else None
        if "when" not in data:
            self.read.fail(doc, path, "missing required field 'when'")
        if when is None or not citations or not self.unique(doc, path, "rule", rule_id):
            return None
        return RuleDef(id=rule_id, kind=kind, target=target, when=when, sources=citations, cf=cf, label=label,
                       note=str(data.get("note", "")).strip(), provenance=provenance,
                       file=doc.file, line=doc.line(path))

    def conclusions(self, observations: dict[str, Observation], sources: dict[str, Source],
                    levels: dict[str, TriageLevel]) -> dict:
        """Parse findings, causes, red flags, advice and tests, whose conditions may refer to each other."""
        known: dict[str, list[str]] = {"triage": list(levels)}
        for name, kind in KINDS.items():
            if name in REFERABLE:
                known[name] = [d["id"] for _, _, d in self.items[kind.section]
                               if isinstance(d, dict) and isinstance(d.get("id"), str)]
        vocabulary = parser.Vocabulary(observations, known, frozenset(self.broken))
        rule_fields = ("when", "sources", "note", "provenance")
        result: dict[str, dict[str, Any]] = {kind.section: {} for kind in KINDS.values()}

        for doc, path, data in self.items["findings"]:
            data = self.read.mapping(doc, path, data, ("id", "label", "when", "sources"), rule_fields + ("description",))
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            if not self.unique(doc, path, "conclusion", data["id"]):
                continue
            rule = self.rule(doc, path, data, kind="finding", rule_id=f"finding.{data['id']}", target=data["id"],
                             vocabulary=vocabulary, sources=sources, label=str(data["label"]))
            if rule:
                result["findings"][data["id"]] = Finding(data["id"], str(data["label"]), rule,
                                                         str(data.get("description", "")).strip())

        for doc, path, data in self.items["red_flags"]:
            data = self.read.mapping(doc, path, data, ("id", "label", "level", "reason", "when", "sources"), rule_fields)
            if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                continue
            if data["level"] not in levels:
                self.read.fail(doc, path + ("level",), f"unknown triage level {data['level']!r}",
                               f"allowed: {', '.join(levels)}")
                continue
            reason = self.read.text(doc, path + ("reason",), data["reason"])
            if not reason or not self.unique(doc, path, "conclusion", data["id"]):
                continue
            rule = self.rule(doc, path, data, kind="red_flag", rule_id=f"red_flag.{data['id']}", target=data["id"],
                             vocabulary=vocabulary, sources=sources, label=str(data["label"]))
            if rule:
                result["red_flags"][data["id"]] = RedFlag(data["id"], str(data["label"]), data["level"], reason, rule)

        for doc, path, data in self.items["causes"]:
            cause = self.cause(doc, path, data, vocabulary, sources)
            if cause:
                result["causes"][cause.id] = cause

        for section, action in (("advice", "advice"), ("tests", "test")):
            for doc, path, data in self.items[section]:
                data = self.read.mapping(doc, path, data, ("id", "text", "when", "sources"), rule_fields + ("audience",))
                if not data or not self.read.identifier(doc, path + ("id",), data["id"]):
                    continue
                audience = data.get("audience", "person" if action == "advice" else "clinician")
                if audience not in ("person", "clinician"):
                    self.read.fail(doc, path + ("audience",), f"unknown audience {audience!r}", "allowed: person, clinician")
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
        description = self.read.text(doc, path + ("description",), data["description"])
        provenance = str(data.get("provenance", "")).strip()
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
                                 cf=cf if polarity == "for" else -cf, label=str(entry.get("label", "")))
                if rule:
                    evidence.append(rule)
        if not description or not citations:
            return None
        return Cause(cause_id, str(data["label"]), description, citations, tuple(evidence), provenance)

    def ask_when_conditions(self, observations: dict[str, Observation]) -> None:
        vocabulary = parser.Vocabulary(observations, {}, frozenset(self.broken))
        for obs_id, (doc, path, data) in self.ask_when.items():
            parsed = self.condition(doc, path, data, "ask_when", vocabulary)
            if parsed is not None and obs_id in set(conditions.observations_in(parsed)):
                self.read.fail(doc, path, "an observation's ask_when cannot depend on itself")
            elif parsed is not None:
                observations[obs_id] = replace(observations[obs_id], ask_when=parsed)

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
                                                    str(entry.get("help", "")).strip())
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
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for nxt in uses.get(node, ()):
                if state.get(nxt) == 1:
                    cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                    rule = findings[nxt].rule
                    self.problems.append(Problem("findings refer to each other in a cycle: " + " -> ".join(cycle),
                                                 field=f"findings.{nxt}.when", file=rule.file, line=rule.line,
                                                 hint="a finding cannot depend on itself, even through others"))
                elif state.get(nxt) is None and nxt in uses:
                    visit(nxt, trail + [nxt])
            state[node] = 2

        for finding_id in uses:
            if finding_id not in state:
                visit(finding_id, [finding_id])


def load(directory: str | os.PathLike | None = None) -> KnowledgeBase:
    """Load and validate a knowledge directory (the shipped one by default)."""
    loader = _Loader(FsPath(directory) if directory is not None else default_directory())
    files, digest = loader.load_files()
    if loader.problems:  # a file that cannot be read hides its ids: checking references now would only cascade
        raise KnowledgeError(loader.problems)
    name, version, disclaimer, levels = loader.manifest()
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
