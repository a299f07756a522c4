"""``spasm audit``: read the service's audit trail (SQLite) as JSON lines or CSV."""
from __future__ import annotations

import json
import os

import click


@click.command()
@click.argument("file", default="spasm-audit.db", metavar="[FILE]")
@click.option("--since", metavar="DATE", help="Only rows from this UTC date or time on (e.g. 2026-01-31).")
@click.option("-f", "--format", "fmt", type=click.Choice(("jsonl", "csv")), default="jsonl", show_default=True)
def audit(file: str, since: str | None, fmt: str) -> None:
    """Print the audit trail written by spasm serve: one row per assessment served, card returned
    and feedback received, oldest first.

    \b
    Examples:
      spasm audit                                   # spasm-audit.db in this folder
      spasm audit trail.db --since 2026-11-01 --format csv > november.csv
    """
    import datetime as dt
    import sqlite3

    from expert.service.trail import as_csv_line, rows
    if since:
        try:
            dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(f"{since!r} is not an ISO date or time", param_hint="--since") from None
    if not os.path.isfile(file):
        raise click.FileError(file, "no audit trail here (spasm serve --audit FILE writes one)")
    try:
        if fmt == "csv":
            click.echo(as_csv_line({}, header=True), nl=False)
        for row in rows(file, since):
            click.echo(json.dumps(row, ensure_ascii=False) if fmt == "jsonl" else as_csv_line(row), nl=fmt == "jsonl")
    except sqlite3.DatabaseError as error:
        raise click.FileError(file, f"not a readable audit trail ({error})") from None
