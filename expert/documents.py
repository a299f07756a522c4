"""Reading YAML and JSON safely, remembering the line of every value.

Both knowledge files and cases go through here, so every validation message can point at the
file and line where the offending value was written. Only plain data is built: no YAML tag
can run code, and anchors are expanded with a bound on the number of nodes. Input is bounded
before it is parsed: a file's size (read with a bounded read, so ``/dev/zero`` or an endless
pipe stops at the limit) and its nesting depth (checked before libyaml's composer, which
recurses in C and would crash the process on a few thousand levels).

Scalars are read the same way in every file, close to YAML 1.2's core schema: a number is a
plain decimal (``90``, ``-1.5``, ``2e3``); YAML 1.1 forms that would silently change a value
(sexagesimal ``1:30`` = 90, octal ``017`` = 15, ``0x1F``, ``0b101``, ``1_000``, ``.inf``,
``.nan``) and dates are plain strings, which a number field then reports as not a number.
Booleans are ``true``/``false`` and, because case files have long been written with them and
the messages speak of yes/no, ``yes``/``no`` (each in lower, Title or UPPER case). YAML 1.1's
``on``/``off``/``y``/``n`` are strings: they read as words (a label "Off" stays "Off").
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from typing import IO, Any, Callable

import yaml

from .errors import InputError, Problem, shown

#: Anchors let a short YAML file describe a huge document; refuse beyond this many nodes.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings accepted (a case needs 3, the knowledge base about 10).
MAX_DEPTH = 100
#: Largest case, session or knowledge file, in bytes; the environment's SPASM_MAX_FILE_BYTES overrides it.
MAX_FILE_BYTES = 1 << 20
#: Longest line of ``spasm batch`` input, in bytes; the environment's SPASM_MAX_LINE_BYTES overrides it.
MAX_LINE_BYTES = 1 << 20

# libyaml's composer recurses in C: far below this depth it cannot exhaust the stack.
_COMPOSE_SAFE_DEPTH = 1000

Path = tuple  # keys and list indexes from the document root, e.g. ("answers", "sites", 0)

_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{name}" for name in ("str", "null", "bool", "int", "float"))
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_INT_TEXT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_NUMBER_TEXT = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOLEANS = {word: value for value, words in ((True, ("true", "yes")), (False, ("false", "no")))
             for base in words for word in (base, base.title(), base.upper())}
_NULLS = ("", "~", "null", "Null", "NULL")


class _Resolver(yaml.resolver.BaseResolver):
    """Which plain scalars are numbers, booleans or null (the module docstring says why)."""


_Resolver.add_implicit_resolver(_BOOL, re.compile(f"(?:{'|'.join(_BOOLEANS)})\\Z"), list("tTfFyYnN"))
_Resolver.add_implicit_resolver(_NULL, re.compile(r"(?:~|null|Null|NULL|)\Z"), list("~nN") + [""])
_Resolver.add_implicit_resolver(_INT, re.compile(_INT_TEXT.pattern + r"\Z"), list("-+0123456789"))
_Resolver.add_implicit_resolver(_FLOAT, re.compile(_NUMBER_TEXT.pattern + r"\Z"), list("-+.0123456789"))

try:  # libyaml's parser is several times faster; the pure-Python one behaves the same
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _Loader(CParser, _Resolver):
        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            _Resolver.__init__(self)
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore[no-redef]
                  yaml.composer.Composer, _Resolver):
        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)


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


def _too_deep(file: str | None, line: int | None) -> Problem:
    return Problem(f"lists and mappings are nested more than {MAX_DEPTH} levels deep", file=file, line=line)


def number(text: str) -> int | float:
    """A plain decimal number (``-12``, ``0.5``, ``2e3``); ValueError says why ``text`` is not one."""
    if not _NUMBER_TEXT.fullmatch(text):
        raise ValueError(f"{shown(text)} is not a plain decimal number")
    try:
        value = int(text) if _INT_TEXT.fullmatch(text) else float(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise ValueError(f"a number of {len(text):,} digits is too large") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{shown(text)} is too large a number")
    return value


class _Builder:
    """Turns a composed YAML node tree into plain Python data and a path -> line map."""

    def __init__(self, file: str | None, error: type[InputError]):
        self.file, self.error = file, error
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def fail(self, node: yaml.Node, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, field=format_path(path), file=self.file,
                                     line=node.start_mark.line + 1, hint=hint))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.error(Problem(f"document has more than {MAX_NODES} values", file=self.file,
                                     hint="anchors and aliases may be expanding it"))
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if len(path) >= MAX_DEPTH:  # this collection is one level deeper than its path; also ends &a [*a]
            raise self.error(_too_deep(self.file, node.start_mark.line + 1))
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, path, f"YAML syntax error: unsupported tag {shown(node.tag)}", "write plain lists and mappings")
            return None
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a mapping key must be a plain value")
                continue
            key = self.scalar(key_node, path)
            if key in result:
                self.fail(key_node, path + (key,), f"duplicate key {shown(key)}", "each key may appear once in a mapping")
                continue
            result[key] = self.build(value_node, path + (key,))
            self.lines[path + (key,)] = key_node.start_mark.line + 1
        return result

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        text, tag = node.value, node.tag
        if tag == _STR:
            return text
        if tag == _NULL and text in _NULLS:
            return None
        if tag == _BOOL and text in _BOOLEANS:
            return _BOOLEANS[text]
        if tag in (_INT, _FLOAT):
            try:
                return number(text)
            except ValueError as reason:
                self.fail(node, path, str(reason), "write a plain decimal number, such as 90 or 1.5")
                return None
        self.fail(node, path, f"YAML syntax error: unsupported tag {shown(tag)} for {shown(text)}",
                  "write plain text, numbers, true or false")
        return None


def _excerpt(text: str | None, limit: int = 120) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _syntax_problem(exc: yaml.YAMLError, file: str | None, text: str = "") -> Problem:
    """PyYAML's own words, cut short: some of them quote the text they stopped at."""
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: its words name PyYAML's internals
        line = text.count("\n", 0, exc.position) + 1
        code = f" (code {exc.character:#06x})" if isinstance(exc.character, int) else ""
        return Problem(f"holds a control character{code}, which YAML text may not contain",
                       file=file, line=line, hint=f"column {exc.position - text.rfind(chr(10), 0, exc.position)}")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = _excerpt(getattr(exc, "problem", None) or str(exc))
    context = _excerpt(getattr(exc, "context", None))
    return Problem(f"YAML syntax error: {what}", file=file, line=mark.line + 1 if mark else None,
                   hint=f"column {mark.column + 1}" + (f", {context}" if context else "") if mark else None)


def _check_yaml_depth(text: str, file: str | None) -> Problem | None:
    """The nesting-depth problem of a YAML text, found before anything recurses over it.

    Cheap first: block nesting needs indentation (at most two levels per column) and flow
    nesting needs brackets, so most texts are cleared by counting. Otherwise the parser's
    events (produced without recursion) are followed, stopping as soon as the limit is passed.
    """
    widest = max(map(len, text.split("\n")))
    if text.count("[") + text.count("{") + 2 * (widest + 1) <= _COMPOSE_SAFE_DEPTH:
        return None
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):  # type: ignore[arg-type]
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(file, event.start_mark.line + 1 if event.start_mark else None)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def parse_yaml(text: str, file: str | None = None, error: type[InputError] = InputError) -> Document:
    """Parse one YAML document (JSON is accepted too) into a :class:`Document`."""
    try:
        too_deep = _check_yaml_depth(text, file)
        if too_deep:
            raise error(too_deep)
        node = yaml.compose(text, Loader=_Loader)  # type: ignore[arg-type]
    except yaml.YAMLError as exc:
        raise error(_syntax_problem(exc, file, text)) from None
    except ValueError as exc:  # e.g. NUL bytes
        raise error(Problem(f"cannot read as YAML: {_excerpt(str(exc))}", file=file)) from None
    except RecursionError:  # only the pure-Python composer recurses in Python
        raise error(_too_deep(file, None)) from None
    if node is None:
        return Document(None, file, {(): 1})
    builder = _Builder(file, error)
    data = builder.build(node, ())
    if builder.problems:
        raise error(builder.problems)
    _check_surrogates(text, data, file, error)
    return Document(data, file, builder.lines)


_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_json_depth(text: str, file: str | None) -> Problem | None:
    """The nesting-depth problem of a JSON text (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _JSON_NESTING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(file, text.count("\n", 0, token.start()) + 1)
        elif bracket in "]}":
            depth -= 1
    return None


def _no_duplicates(file: str | None, error: type[InputError]) -> Callable:
    def hook(pairs: list) -> dict:
        result = {}
        for key, value in pairs:
            if key in result:
                raise error(Problem(f"duplicate key {shown(key)}", file=file, field=key,
                                    hint="each key may appear once in an object"))
            result[key] = value
        return result
    return hook


def _json_number(file: str | None, error: type[InputError]) -> Callable:
    def convert(text: str) -> int | float:
        try:
            return number(text)
        except ValueError as reason:
            raise error(Problem(str(reason), file=file, hint="use a number Python can hold, such as 90 or 1.5")) from None
    return convert


_ESCAPED_SURROGATE = re.compile(r"\\[uU]0*[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_surrogates(text: str, data: Any, file: str | None, error: type[InputError]) -> None:
    """Refuse a string holding half of a UTF-16 pair (an escape such as \\ud800 alone): it is not
    text, and could not be written out again. Only texts that escape one are walked."""
    if not _ESCAPED_SURROGATE.search(text):
        return
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise error(Problem("a \\u escape stands for half of a character pair (a lone surrogate), which is "
                                "not text", file=file, hint="write the character itself, or both halves of its pair"))


def parse_json(text: str, file: str | None = None, error: type[InputError] = InputError,
               with_lines: bool = True) -> Document:
    """Parse JSON strictly; line numbers for fields come from re-reading it as YAML."""
    too_deep = _check_json_depth(text, file)
    if too_deep:
        raise error(too_deep)
    numbers = _json_number(file, error)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(file, error), parse_int=numbers,
                          parse_float=numbers, parse_constant=_reject_constant(file, error))
    except json.JSONDecodeError as exc:
        raise error(Problem(f"JSON syntax error: {exc.msg}", file=file, line=exc.lineno,
                            hint=f"column {exc.colno}")) from None
    _check_surrogates(text, data, file, error)
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


# ------------------------------------------------------------------------ bounded reading
def byte_limit(variable: str, default: int) -> int:
    """A size limit: the environment variable ``variable`` when it is set, else ``default``."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise InputError(Problem(f"{variable} must be a whole number of bytes, at least 1, got {shown(text)}"))
    return int(text)


def file_limit() -> int:
    """The largest file read as one document (a case, a session, a knowledge file), in bytes."""
    return byte_limit("SPASM_MAX_FILE_BYTES", MAX_FILE_BYTES)


def decode(raw: bytes, file: str | None, error: type[InputError] = InputError) -> str:
    """UTF-8 text, with or without a byte-order mark (editors on Windows add one)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(Problem(f"not UTF-8 text (byte {exc.start})", file=file,
                            hint="save the file as UTF-8")) from None


def file_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, in words for a message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


class NotARegularFile(OSError):
    """A path that names a directory, FIFO, device or socket where a file's content is wanted."""

    def __init__(self, kind: str):
        super().__init__(f"it is {kind}, not a regular file")
        self.kind = kind


#: Opening flags that never wait: on a FIFO or a terminal, open and read would otherwise block.
NO_WAIT = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def open_regular(path: str) -> IO[bytes]:
    """Open a regular file (or a link to one) for reading, never waiting and never opening anything
    else: checked before opening (opening some devices acts on them) and again through the open
    descriptor (so it cannot be swapped in between). Raises NotARegularFile, or the OSError."""
    kind = file_kind(os.stat(path).st_mode)
    if kind:
        raise NotARegularFile(kind)
    descriptor = os.open(path, os.O_RDONLY | NO_WAIT)
    stream = os.fdopen(descriptor, "rb")
    kind = file_kind(os.fstat(descriptor).st_mode)
    if kind:
        stream.close()
        raise NotARegularFile(kind)
    return stream


def open_input(path: str | os.PathLike, error: type[InputError] = InputError) -> IO[bytes]:
    """Open a file for reading in binary, turning every failure into ``error`` naming the file."""
    name = os.fspath(path)
    if not name:
        raise error(Problem("the file name is empty", hint="name a file, or - to read from the keyboard or a pipe"))
    try:
        return open(name, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise error(Problem("file not found", file=name)) from None
    except IsADirectoryError:
        raise error(Problem("is a directory, not a file", file=name)) from None
    except OSError as exc:
        raise error(Problem(f"cannot read file: {exc.strerror}", file=name)) from None
    except ValueError:  # e.g. a NUL byte in the name
        raise error(Problem("not a valid file name", file=shown(name))) from None


def read_text(stream: IO[bytes], file: str, error: type[InputError] = InputError) -> str:
    """All of an open stream as text, reading at most :func:`file_limit` bytes (plus one, to know)."""
    limit = file_limit()
    try:
        raw = stream.read(limit + 1)
    except OSError as exc:
        raise error(Problem(f"cannot read file: {exc.strerror}", file=file)) from None
    if len(raw) > limit:
        raise error(Problem(f"larger than {limit:,} bytes", file=file,
                            hint="set SPASM_MAX_FILE_BYTES to a larger number of bytes to read it"))
    return decode(raw, file, error)


def read_file(path: str | os.PathLike, error: type[InputError] = InputError) -> Document:
    """Read and parse a YAML or JSON file, turning I/O and decoding failures into ``error``."""
    name = os.fspath(path)
    with open_input(name, error) as stream:
        text = read_text(stream, name, error)
    return parse_text(text, name, error)
