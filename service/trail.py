"""The audit trail: one SQLite row for every assessment served, card returned and feedback received.

A row is committed before the response leaves (the endpoints are synchronous and write first), so a
server killed at any moment has a row for every response a client received. The database is in WAL
mode with ``synchronous=NORMAL``: a commit survives the process being killed; only a power failure
can lose the last few. Several worker processes write to one file, each thread through its own
connection.

The case itself is not stored unless asked for (``--audit-cases``): a row has the SHA-256 of the
case's canonical JSON, enough to show which case an answer was for without keeping health data.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import stat
import threading
import time
from typing import Any, Iterator

from expert.documents import file_kind

from .settings import ConfigError, os_reason

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,              -- UTC, ISO 8601
    kind TEXT NOT NULL,              -- assessment | card | feedback
    endpoint TEXT NOT NULL,          -- the path called
    client TEXT NOT NULL,            -- JWT iss and sub, or the API token's name
    knowledge_version TEXT,
    case_sha256 TEXT,                -- of the canonical case JSON (sorted keys, no spaces)
    triage TEXT,
    red_flags TEXT,                  -- JSON list of red flag ids
    rules TEXT,                      -- JSON list: triage.because, red flag rules, cause evidence rules
    detail TEXT,                     -- JSON: card uuid and hook instance, or the feedback
    case_json TEXT                   -- the case, only when the service runs with --audit-cases
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS seen_tokens (   -- JWT ids already used, so a token cannot be replayed
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (issuer, jti)
);
"""
COLUMNS = ("id", "time", "kind", "endpoint", "client", "knowledge_version", "case_sha256", "triage",
           "red_flags", "rules", "detail", "case_json")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def case_digest(case_json: str) -> str:
    return hashlib.sha256(case_json.encode("utf-8")).hexdigest()


def fired_rules(assessment: dict) -> list[str]:
    """The rules behind an assessment's triage, red flags and causes, from its contract JSON."""
    rules = list(assessment["triage"]["because"])
    rules += [flag["rule"] for flag in assessment["red_flags"]]
    rules += [s["rule"] for cause in assessment["causes"] for s in (*cause["for"], *cause["against"])]
    return list(dict.fromkeys(rules))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Trail:
    """Writes rows; one connection per thread."""

    def __init__(self, path: str, store_cases: bool = False):
        self.path, self.store_cases = path, store_cases
        self._local = threading.local()
        _check_file(path)
        try:
            self._connection()  # create the file and the tables now, so a bad path fails at start
        except sqlite3.Error as error:
            raise ConfigError(f"--audit {path}: cannot be used as the audit trail ({error})") from None

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            try:
                _check_tables(connection, self.path)  # before anything is written to someone else's database
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(SCHEMA)
            except BaseException:
                connection.close()
                raise
            self._local.connection = connection
        return connection

    def record(self, kind: str, endpoint: str, client: str, knowledge_version: str, *,
               case: dict | None = None, assessment: dict | None = None, detail: dict | None = None) -> None:
        """Add one row and commit it (autocommit: each INSERT is its own transaction)."""
        case_json = canonical_json(case) if case is not None else None
        row = (_now(), kind, endpoint, client, knowledge_version,
               case_digest(case_json) if case_json is not None else None,
               assessment["triage"]["level"] if assessment else None,
               json.dumps([f["id"] for f in assessment["red_flags"]]) if assessment else None,
               json.dumps(fired_rules(assessment)) if assessment else None,
               canonical_json(detail) if detail is not None else None,
               case_json if self.store_cases else None)
        self._connection().execute(
            "INSERT INTO events (time, kind, endpoint, client, knowledge_version, case_sha256, triage, red_flags,"
            " rules, detail, case_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def first_use(self, issuer: str, jti: str, expires: float) -> bool:
        """Record a JWT id; False if it was seen before (a replay). Expired ids are forgotten."""
        connection = self._connection()
        connection.execute("DELETE FROM seen_tokens WHERE expires < ?", (time.time() - 3600,))
        try:
            connection.execute("INSERT INTO seen_tokens VALUES (?, ?, ?)", (issuer, jti, expires))
        except sqlite3.IntegrityError:
            return False
        return True


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_file(path: str) -> None:
    """Refuse, before SQLite touches it, anything but a new file or an SQLite database: a folder,
    a device, a missing folder, or a file of another kind (which is left as it is)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ConfigError(f"--audit {path}: the folder {folder} does not exist") from None
        return  # a new trail
    except NotADirectoryError:
        raise ConfigError(f"--audit {path}: a part of the path is a file, not a folder") from None
    except OSError as error:
        raise ConfigError(f"--audit {path}: {os_reason(error)}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"--audit {path}: it is a folder; name a database file, e.g. "
                          f"{os.path.join(path, 'spasm-audit.db')}")
    kind = file_kind(mode)
    if kind:
        raise ConfigError(f"--audit {path}: it is {kind}, not a database file")
    try:
        with open(path, "rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as error:
        raise ConfigError(f"--audit {path}: {os_reason(error)}") from None
    if header and header != SQLITE_HEADER:
        raise ConfigError(f"--audit {path}: not an SQLite database, so not an audit trail (it was left as it "
                          "is); name a new file or an existing trail")


def _check_tables(connection: sqlite3.Connection, path: str) -> None:
    """An existing database must be an audit trail, or empty: tables are never added to another one."""
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = tuple(row[1] for row in connection.execute("PRAGMA table_info(events)"))
    if (tables and "events" not in tables) or ("events" in tables and columns != COLUMNS):
        raise ConfigError(f"--audit {path}: an SQLite database that is not an audit trail (it was left as it "
                          "is); name a new file or an existing trail")


class MemoryReplayGuard:
    """JWT ids seen by this process, when the service runs without a trail."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, issuer: str, jti: str, expires: float) -> bool:
        with self._lock:
            now = time.time()
            if len(self._seen) > 100_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now - 3600}
            if (issuer, jti) in self._seen:
                return False
            self._seen[(issuer, jti)] = expires
            return True


# ------------------------------------------------------------------------------------- reading

def rows(path: str, since: str | None = None) -> Iterator[dict]:
    """The trail's rows, oldest first, from ``since`` (an ISO date or time, UTC) on."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.row_factory = sqlite3.Row
        query, arguments = "SELECT * FROM events", tuple[str, ...]()
        if since:
            query, arguments = query + " WHERE time >= ?", (since,)
        for row in connection.execute(query + " ORDER BY id", arguments):
            data = dict(row)
            for key in ("red_flags", "rules", "detail", "case_json"):
                if data.get(key) is not None:
                    data[key] = json.loads(data[key])
            yield data
    finally:
        connection.close()


def as_csv_line(row: dict, header: bool = False) -> str:
    """A row as one CSV line (lists and objects as JSON text); the header line when ``header``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    else:
        writer.writerow([json.dumps(row[c], ensure_ascii=False) if isinstance(row.get(c), (list, dict))
                         else row.get(c) for c in COLUMNS])
    return buffer.getvalue()
