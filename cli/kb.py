"""``spasm kb``: lint, show, graph and coverage of the knowledge base."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import click

from .output import emit


@click.group()
def kb() -> None:
    """Inspect and check the knowledge base.

    \b
    Examples:
      spasm kb lint
      spasm kb show                 # everything, by kind
      spasm kb show heat_exhaustion
      spasm kb graph -o network.svg
      spasm kb coverage --format markdown
    """


@kb.command()
@click.option("--strict", is_flag=True, help="Exit with code 2 if there are warnings.")
@click.pass_obj
def lint(settings, strict: bool) -> None:
    """Validate the knowledge base and warn about suspect items.

    Invalid knowledge (with file, line and hint for each problem) exits with code 2.

    \b
    Examples:
      spasm kb lint
      spasm --knowledge my-knowledge/ kb lint --strict
    """
    from expert.audit import lint as run_lint
    expert_ = settings.expert  # loading validates: problems raise and exit 2
    kb_ = expert_.kb
    warnings = run_lint(kb_)
    for warning in warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"{kb_.name} {kb_.knowledge_version}: {len(kb_.observations)} observations, {len(kb_.findings)} "
               f"findings, {len(kb_.red_flags)} red flags, {len(kb_.causes)} causes, {len(kb_.advice)} advice, "
               f"{len(kb_.tests)} tests, {len(kb_.rules)} rules; {len(warnings)} warnings")
    if warnings and strict:
        raise click.exceptions.Exit(2)


def _describe_item(kb_, item_id: str) -> list[dict]:
    """Every item (of any kind) or rule with this id, as plain data."""
    from expert.conditions import describe, references_in
    from expert.model import KINDS, REFERABLE, Action, Cause, RedFlag, RuleDef

    def rule_data(rule: RuleDef) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": rule.id, "when": describe(rule.when), "defined_at": f"{rule.file}:{rule.line}",
                "sources": [{"source": c.source, "section": c.section} if c.section else c.source for c in rule.sources]}
        if rule.is_evidence:
            data["cf"] = rule.cf
        for key in ("provenance", "note"):
            if getattr(rule, key):
                data[key] = getattr(rule, key)
        return data

    def used_by(kind: str, target: str) -> list[str]:
        from expert.conditions import observations_in
        if kind == "observation":
            return [r.id for r in kb_.rules.values() if target in set(observations_in(r.when))]
        return [r.id for r in kb_.rules.values()
                if any(ref.kind == kind and target in ref.targets for ref in references_in(r.when))]

    from expert.contract import CORE_CAUSES, CORE_OBSERVATIONS, TOP_LEVEL
    core = {**CORE_OBSERVATIONS, **TOP_LEVEL}
    found = []
    if item_id in kb_.observations:
        obs = kb_.observations[item_id]
        data = {"kind": "observation", "id": obs.id, "label": obs.label, "type": obs.type, "question": obs.question,
                "contract": "core" if obs.id in core else "extension"}
        added = [v for v in obs.values if obs.id in core and v not in core[obs.id][1]]
        if added:
            data["extension_values"] = added
        if obs.help:
            data["help"] = obs.help
        if obs.type in ("enum", "set"):
            data["values"] = {c.id: c.label for c in obs.choices}
        if obs.type == "number":
            data["range"] = f"{obs.minimum:g} to {obs.maximum:g}" if obs.maximum is not None else f">= {obs.minimum:g}"
        if obs.ask_when:
            data["asked_when"] = describe(obs.ask_when)
        data["used_by"] = used_by("observation", obs.id)
        found.append(data)
    for name, kind in KINDS.items():
        item = kb_.conclusions(name).get(item_id)
        if item is None:
            continue
        data = {"kind": kind.title, "id": item_id}
        if isinstance(item, Action):
            data.update(text=item.text, audience=item.audience)
        else:
            data["label"] = item.label
        if isinstance(item, RedFlag):
            data.update(level=item.level, reason=item.reason)
        if isinstance(item, Cause):
            data.update({"contract": "core" if item_id in CORE_CAUSES else "extension", "description": item.description,
                         "sources": [c.source for c in item.sources], "for": [rule_data(r) for r in item.supporting],
                         "against": [rule_data(r) for r in item.opposing]})
        else:
            data.update(rule_data(item.rules[0]))
        if name in REFERABLE:
            data["used_by"] = used_by(name, item_id)
        found.append(data)
    if item_id in kb_.sources:
        source = kb_.sources[item_id]
        found.append({"kind": "source", "id": item_id, "title": source.title, "publisher": source.publisher,
                      **({"file": source.file} if source.file else {}), **({"note": source.note} if source.note else {})})
    if item_id in kb_.rules and not found:
        rule = kb_.rules[item_id]
        found.append({"kind": f"{KINDS[rule.kind].rule_name.replace('_', ' ')} rule", "id": item_id,
                      "concludes": rule.target, **rule_data(rule)})
    return found


def _text(value, indent: str = "") -> list[str]:
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{indent}{key}:")
                lines += _text(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {item if item != [] else '-'}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                first, *rest = _text(item, indent + "  ")
                lines.append(f"{indent}- {first.strip()}")
                lines += rest
            else:
                lines.append(f"{indent}- {item}")
    return lines


@kb.command()
@click.argument("item_id", metavar="[ID]", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_obj
def show(settings, item_id: str | None, fmt: str) -> None:
    """Show one observation, finding, cause, red flag, advice, test, source or rule; or list them all.

    \b
    Examples:
      spasm kb show
      spasm kb show heat_exhaustion
      spasm kb show cause.dehydration.low_fluids --format json
    """
    from expert.errors import UnknownIdError, suggest
    kb_ = settings.expert.kb
    if item_id is None:
        listing = {"observations": list(kb_.observations), "findings": list(kb_.findings),
                   "red_flags": {f.id: f.level for f in kb_.red_flags.values()}, "causes": list(kb_.causes),
                   "advice": list(kb_.advice), "tests": list(kb_.tests), "sources": list(kb_.sources)}
        emit(json.dumps(listing, indent=2) + "\n" if fmt == "json" else "\n".join(_text(listing)) + "\n", None)
        return
    found = _describe_item(kb_, item_id)
    if not found:
        known = [*kb_.observations, *kb_.findings, *kb_.red_flags, *kb_.causes, *kb_.advice, *kb_.tests,
                 *kb_.sources, *kb_.rules]
        raise UnknownIdError(f"no item or rule {item_id!r} in the knowledge base; {suggest(item_id, known)}")
    if fmt == "json":
        emit(json.dumps(found if len(found) > 1 else found[0], indent=2, ensure_ascii=False) + "\n", None)
    else:
        emit("\n\n".join("\n".join(_text(item)) for item in found) + "\n", None)


@kb.command()
@click.option("-o", "--output", metavar="FILE", required=True,
              help="Output file: .dot always works; .svg or .png need Graphviz's dot program.")
@click.pass_obj
def graph(settings, output: str) -> None:
    """Draw the causal network: observations to findings to causes and red flags.

    \b
    Examples:
      spasm kb graph -o network.dot
      spasm kb graph -o network.svg      # needs Graphviz
    """
    from expert.graph import to_dot
    dot_text = to_dot(settings.expert.kb)
    extension = os.path.splitext(output)[1].lower().lstrip(".")
    if extension in ("", "dot", "gv"):
        emit(dot_text, output)
        click.echo(f"Wrote {output}")
        return
    if extension not in ("svg", "png", "pdf"):
        raise click.BadParameter(f"cannot draw {extension!r}; use .dot, .svg, .png or .pdf", param_hint="--output")
    dot = shutil.which("dot")
    if dot is None:
        raise click.UsageError(f"drawing .{extension} needs Graphviz's 'dot' program, which is not installed; "
                               f"write a .dot file instead (spasm kb graph -o network.dot)")
    result = subprocess.run([dot, f"-T{extension}", "-o", output], input=dot_text.encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    click.echo(f"Wrote {output}")


@kb.command()
@click.option("-f", "--format", "fmt", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of the terminal.")
@click.pass_obj
def coverage(settings, fmt: str, output: str | None) -> None:
    """List, for each source, every finding, red flag, cause, evidence rule, advice and test citing it.

    \b
    Examples:
      spasm kb coverage
      spasm kb coverage --format markdown -o COVERAGE.md
    """
    from expert.audit import coverage as table_of
    kb_ = settings.expert.kb
    table = table_of(kb_)
    if fmt == "json":
        emit(json.dumps(table, indent=2) + "\n", output)
        return
    lines = ["# Knowledge coverage by source", ""] if fmt == "markdown" else []
    for source_id, kinds in table.items():
        source = kb_.sources[source_id]
        total = sum(len(items) for items in kinds.values())
        head = f"{source_id}: {source.title} ({source.publisher}): {total} items"
        lines += [f"## {head}", ""] if fmt == "markdown" else [head]
        for kind, items in kinds.items():
            text = f"{kind} ({len(items)}): {', '.join(items)}"
            lines.append(f"- {text}" if fmt == "markdown" else f"  {text}")
        lines.append("")
    emit("\n".join(lines), output)
