"""The causal network as Graphviz DOT: observations -> findings -> red flags and causes."""
from __future__ import annotations

from .conditions import observations_in, references_in
from .model import KnowledgeBase

_STYLE = {
    "observation": 'shape=ellipse, style=filled, fillcolor="#eef3fb"',
    "finding": 'shape=box, style="rounded,filled", fillcolor="#f5f5f5"',
    "red_flag": 'shape=octagon, style=filled, fillcolor="#fde2e2"',
    "cause": 'shape=box, style="filled", fillcolor="#e6f4e6"',
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(kb: KnowledgeBase) -> str:
    """A DOT graph of how observations feed findings, red flags and causes (edges weighted by cf)."""
    lines = ["digraph spasm_expert {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8, color="#777777"];']
    used: set[str] = set()
    edges: list[str] = []

    def feed(rule_when, target: str, label: str = "", style: str = "") -> None:
        for obs in sorted(set(observations_in(rule_when))):
            used.add(obs)
            edges.append(f"  {_quote('obs:' + obs)} -> {_quote(target)}{_attrs(label, style)};")
        for ref in references_in(rule_when):
            if ref.kind == "finding":
                edges.append(f"  {_quote('finding:' + str(ref.target))} -> {_quote(target)}{_attrs(label, style)};")

    for finding in kb.findings.values():
        lines.append(f"  {_quote('finding:' + finding.id)} [label={_quote(finding.label)}, {_STYLE['finding']}];")
        feed(finding.rule.when, "finding:" + finding.id)
    for flag in kb.red_flags.values():
        lines.append(f"  {_quote('red_flag:' + flag.id)} [label={_quote(flag.label + ' (' + flag.level + ')')}, "
                     f"{_STYLE['red_flag']}, color={_quote(kb.triage_levels[flag.level].colour)}];")
        feed(flag.rule.when, "red_flag:" + flag.id)
    for cause in kb.causes.values():
        lines.append(f"  {_quote('cause:' + cause.id)} [label={_quote(cause.label)}, {_STYLE['cause']}];")
        for rule in cause.evidence:
            feed(rule.when, "cause:" + cause.id, f"{rule.cf:+g}", "" if rule.cf > 0 else "dashed")
    for obs in kb.observations.values():
        if obs.id in used:
            lines.append(f"  {_quote('obs:' + obs.id)} [label={_quote(obs.label)}, {_STYLE['observation']}];")
    lines += sorted(set(edges), key=edges.index)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attrs(label: str, style: str) -> str:
    parts = ([f"label={_quote(label)}"] if label else []) + ([f"style={style}"] if style else [])
    return f" [{', '.join(parts)}]" if parts else ""
