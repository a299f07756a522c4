"""Reading YAML and JSON safely, remembering the line of every value.

Both knowledge files and cases go through here, so every validation message can point at the
file and line where the offending value was written. Only plain data is built: no YAML tag
can run code, and anchors are expanded with a bound on the number of nodes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from .errors import InputError, Problem

try:  # libyaml's parser is several times faster; the pure-Python one behaves the same
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: Anchors let a short YAML file describe a huge document; refuse beyond this many nodes.
MAX_NODES = 100_000

#: Only plain mappings and lists; a tag such as !!python/object is refused, never constructed.
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

Path = tuple  # keys and list indexes from the document root, e.g. ("answers", "sites", 0)


def format_path(path: Path) -> str:
    """``("causes", 3, "for", 0)`` -> ``causes[3].for[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


@dataclass
class Document:
    """Parsed data plus the 1-based line where each value (by path) was written."""

    data: Any
    file: str | None = None
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: Path, message: str, hint: str | None = None) -> Problem:
        return Problem(message=message, field=format_path(path), file=self.file,
                       line=self.line(path), hint=hint)


class _Builder:
    """Turns a composed YAML node tree into plain Python data and a path -> line map."""

    def __init__(self, file: str | None, error: type[InputError]):
        self.file, self.error = file, error
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.error(Problem(f"document has more than {MAX_NODES} values", file=self.file,
                                     hint="anchors and aliases may be expanding it"))
        self.lines[path] = node.start_mark.line + 1
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise yaml.constructor.ConstructorError(None, None, f"unsupported tag {node.tag!r}", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            result: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(Problem("a mapping key must be a plain value", file=self.file,
                                                 line=key_node.start_mark.line + 1, field=format_path(path)))
                    continue
                key = self.constructor.construct_object(key_node)
                if key in result:
                    self.problems.append(Problem(f"duplicate key {key!r}", field=format_path(path + (key,)),
                                                 file=self.file, line=key_node.start_mark.line + 1,
                                                 hint="each key may appear once in a mapping"))
                    continue
                result[key] = self.build(value_node, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node)


def _syntax_problem(exc: yaml.YAMLError, file: str | None) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return Problem(f"YAML syntax error: {what}", file=file, line=mark.line + 1 if mark else None,
                   hint=f"column {mark.column + 1}" + (f", {context}" if context else "") if mark else None)


def parse_yaml(text: str, file: str | None = None, error: type[InputError] = InputError) -> Document:
    """Parse one YAML document (JSON is accepted too) into a :class:`Document`."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise error(_syntax_problem(exc, file)) from None
    except (ValueError, RecursionError) as exc:  # e.g. NUL bytes, absurd nesting
        raise error(Problem(f"cannot read as YAML: {exc}", file=file)) from None
    if node is None:
        return Document(None, file, {(): 1})
    builder = _Builder(file, error)
    try:
        data = builder.build(node, ())
    except yaml.YAMLError as exc:  # a scalar that cannot be constructed (bad timestamp, ...)
        raise error(_syntax_problem(exc, file)) from None
    except RecursionError:
        raise error(Problem("document is nested too deeply", file=file)) from None
    if builder.problems:
        raise error(builder.problems)
    return Document(data, file, builder.lines)


def _no_duplicates(file: str | None, error: type[InputError]) -> Callable:
    def hook(pairs: list) -> dict:
        result = {}
        for key, value in pairs:
            if key in result:
                raise error(Problem(f"duplicate key {key!r}", file=file, field=key,
                                    hint="each key may appear once in an object"))
            result[key] = value
        return result
    return hook


def parse_json(text: str, file: str | None = None, error: type[InputError] = InputError,
               with_lines: bool = True) -> Document:
    """Parse JSON strictly; line numbers for fields come from re-reading it as YAML."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(file, error),
                          parse_constant=_reject_constant(file, error))
    except json.JSONDecodeError as exc:
        raise error(Problem(f"JSON syntax error: {exc.msg}", file=file, line=exc.lineno,
                            hint=f"column {exc.colno}")) from None
    except RecursionError:
        raise error(Problem("document is nested too deeply", file=file)) from None
    lines: dict[Path, int] = {}
    if with_lines and "\n" in text.strip():
        try:
            lines = parse_yaml(text, file, error).lines
        except InputError:
            lines = {}
    return Document(data, file, lines)


def _reject_constant(file: str | None, error: type[InputError]) -> Callable:
    def reject(name: str):
        raise error(Problem(f"{name} is not a valid JSON number", file=file,
                            hint="use a finite number"))
    return reject


def parse_text(text: str, file: str | None = None, error: type[InputError] = InputError) -> Document:
    """Parse a case or knowledge text: JSON when it looks like JSON, YAML otherwise."""
    if text.lstrip().startswith(("{", "[")) or (file or "").lower().endswith((".json", ".jsonl")):
        return parse_json(text, file, error)
    return parse_yaml(text, file, error)


def read_file(path: str | os.PathLike, error: type[InputError] = InputError) -> Document:
    """Read and parse a YAML or JSON file, turning I/O and decoding failures into ``error``."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise error(Problem("file not found", file=name)) from None
    except IsADirectoryError:
        raise error(Problem("is a directory, not a file", file=name)) from None
    except OSError as exc:
        raise error(Problem(f"cannot read file: {exc.strerror}", file=name)) from None
    except ValueError:  # e.g. a NUL byte in the name
        raise error(Problem("not a valid file name", file=repr(name))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(Problem(f"not UTF-8 text (byte {exc.start})", file=name,
                            hint="save the file as UTF-8")) from None
    return parse_text(text, name, error)
