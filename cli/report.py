"""Reports a clinician can read and keep: text (80 columns), markdown and self-contained HTML.

A :class:`Report` gathers, in plain words, what an assessment says, in the order a clinician
reads it: the triage banner, the answers it rests on, red flags, ranked possible causes with the
evidence for and against each, advice, tests, the questions that could still change the
result, the sources, and the statement that this is decision support, not a diagnosis.
"""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

import click

WIDTH = 80
#: The sections after the banner and the answers, in reading order: (HTML id, title, Report field).
SECTIONS = (
    ("red-flags", "Red flags", "red_flags"),
    ("causes", "Possible causes (most likely first)", "causes"),
    ("advice", "What to do", "advice"),
    ("clinician", "For the clinician (information, not a prescription)", "clinician"),
    ("tests", "Tests a clinician may consider", "tests"),
    ("unanswered", "Questions that could change this result", "unanswered"),
)
MAX_UNANSWERED = 8


def value_text(obs, value: Any) -> str:
    """An answer in words: yes/no, the choice's short label, or the number with its unit."""
    if value == "unknown":
        return "unknown"
    if obs.type == "bool":
        return "yes" if value else "no"
    if obs.type == "number":
        return f"{value:g}" + (f" {obs.unit}" if obs.unit else "")
    labels = {c.id: c.label.split(":")[0] for c in obs.choices}
    if obs.type == "set":
        return ", ".join(labels[v] for v in obs.values if v in value) or "none"
    return labels.get(value, str(value))


@dataclass
class Item:
    """One line of a report section, with its supporting detail lines."""

    title: str
    detail: list[str] = field(default_factory=list)
    tag: str = ""  # a level, a score, an audience
    refs: str = ""  # rule id and source ids, for the reader who wants to check


@dataclass
class Report:
    level: str
    level_label: str
    meaning: str
    raised_by: list[str]
    caution: list[str]  # provisional triage, or unanswered questions that could raise it: said first
    answers: list[tuple[str, str]]
    red_flags: list[Item]
    causes: list[Item]
    advice: list[Item]
    clinician: list[Item]
    tests: list[Item]
    unanswered: list[Item]
    sources: list[tuple[str, str, str]]
    disclaimer: str
    knowledge_version: str
    colour: str | None = None  # the level's terminal colour
    html_colour: str = "#555555"
    tint: str = "#f5f5f5"
    explanations: dict = field(default_factory=dict)


def build(assessment, explain: bool = False) -> Report:
    """Gather what an assessment says into the report's sections."""
    kb = assessment.kb
    obs = kb.observations

    def answers_text(support) -> str:
        return "; ".join(f"{obs[i].label}: {value_text(obs[i], v)}" for i, v in support.facts)

    def facts_text(support) -> str:
        words = [answers_text(support)] + [kb.findings[f].label for f in support.findings]
        return "; ".join(filter(None, words)) or "nothing reported against it"

    def refs(support) -> str:
        return f"{support.rule} · {', '.join(support.sources)}"

    def questions(ids) -> str:
        return ", ".join(obs[o].label.lower() if o != ids[0] else obs[o].label for o in ids)

    def flag_detail(flag) -> list[str]:
        detail = [flag.reason, "Because: " + facts_text(flag.support)]
        if flag.status == "possible":
            detail.insert(0, "POSSIBLE: not yet ruled out. Would be settled by: " + questions(flag.pending))
        return detail

    flags = [Item(f.label, flag_detail(f), f.level + (" possible" if f.status == "possible" else ""), refs(f.support))
             for f in assessment.red_flags]
    def evidence_text(support) -> str:
        """``for (cf +0.4): what the rule says, from: the answers it rests on``."""
        rule = kb.rules[support.rule]
        polarity = "for" if support.cf > 0 else "against"
        what = rule.label or "; ".join(kb.findings[f].label for f in support.findings[-1:])
        answers = answers_text(support)
        if what and answers:
            return f"{polarity} ({support.cf:+g}): {what}, from {answers}"
        return f"{polarity} ({support.cf:+g}): {what or answers or 'nothing reported'}"

    causes = []
    for rank, cause in enumerate(assessment.causes, 1):
        detail = [evidence_text(s) for s in cause.supporting + cause.opposing]
        causes.append(Item(f"{rank}. {cause.label}", detail, f"{cause.score:.2f}",
                           ", ".join(s.rule for s in cause.supporting + cause.opposing)))
    advice = [Item(a.text, refs=refs(a.support)) for a in assessment.advice if a.audience == "person"]
    clinician = [Item(a.text, refs=refs(a.support)) for a in assessment.advice if a.audience == "clinician"]
    tests = [Item(t.text, refs=refs(t.support)) for t in assessment.tests]
    unanswered = [Item(obs[o].question, tag=o) for o in assessment.unanswered[:MAX_UNANSWERED]]
    if len(assessment.unanswered) > MAX_UNANSWERED:
        unanswered.append(Item(f"... and {len(assessment.unanswered) - MAX_UNANSWERED} more "
                               "(run `spasm consult --answers CASE` to answer them)"))
    cited: list[str] = []
    for support in [f.support for f in assessment.red_flags] + [s for c in assessment.causes for s in
                                                                c.supporting + c.opposing] + \
            [a.support for a in assessment.advice] + [t.support for t in assessment.tests]:
        cited += [s for s in support.sources if s not in cited]
    sources = [(s, kb.sources[s].title, kb.sources[s].publisher) for s in kb.sources if s in cited]
    case = assessment.case.to_dict(kb)
    given = {key: value for key, value in case.items() if key != "answers"}
    given.update(case["answers"])
    answers = [(obs[k].label, value_text(obs[k], v)) for k, v in given.items()]
    triage = assessment.triage
    shown = kb.triage_levels[triage.level]
    caution = []
    if triage.provisional:
        caution.append("Provisional: set by a possible red flag that unanswered questions could rule out.")
    if triage.could_rise_to is not None:
        rise = kb.triage_levels[triage.could_rise_to]
        caution.append(f"Not yet ruled out: {rise.label.upper()} ({rise.meaning.rstrip('.')}). "
                       f"Still to ask about: {questions(triage.questions[:6])}"
                       + (f" (and {len(triage.questions) - 6} more)" if len(triage.questions) > 6 else ""))
    return Report(
        level=triage.level, level_label=triage.label, meaning=triage.meaning,
        raised_by=[kb.rules[r].label for r in triage.because], caution=caution, answers=answers, red_flags=flags, causes=causes,
        advice=advice, clinician=clinician, tests=tests, unanswered=unanswered, sources=sources,
        disclaimer=assessment.disclaimer, knowledge_version=assessment.knowledge_version,
        colour=shown.terminal_colour, html_colour=shown.colour, tint=shown.tint,
        explanations={key: tree.to_dict() for key, tree in assessment.explanations().items()} if explain else {})


# ------------------------------------------------------------------------------- text

def _wrap(text: str, indent: str, hang: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=hang if hang is not None else indent,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def render_text(report: Report, color: bool = False) -> str:
    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if color else text

    lines: list[str] = []
    banner = f"{report.level_label.upper()}: {report.meaning}"
    lines += [style(line, fg=report.colour, bold=True) for line in _wrap(banner, "")]
    for line in report.caution:
        lines += [style(text, bold=True) for text in _wrap(line, "", "  ")]
    if report.raised_by:
        lines += _wrap("Raised by: " + "; ".join(report.raised_by), "", "  ")
    else:
        lines += _wrap("No red flag was found in the answers given.", "")

    def section(part: str, title: str, items: list[Item]) -> None:
        if not items:
            return
        lines.extend(["", style(title, bold=True)])
        bullet = "! " if part == "red_flags" else "- "
        for item in items:
            head = item.title if part == "causes" else bullet + item.title
            if item.tag and part == "red_flags":
                head = f"{bullet}[{item.tag}] {item.title}"
            elif item.tag and part == "causes":
                head = f"{item.title}  (score {item.tag})"
            lines.extend(_wrap(head, "  ", "    "))
            for detail in item.detail:
                lines.extend(_wrap(detail, "      ", "        " if detail.startswith(("for ", "against ")) else None))
            if item.refs and part != "unanswered":
                lines.extend(style(line, dim=True) for line in _wrap(f"[{item.refs}]", "      ", "        "))

    if report.answers:
        lines.extend(["", style("Answers", bold=True)])
        width = min(32, max(len(label) for label, _ in report.answers))
        for label, value in report.answers:
            lines.extend(_wrap(f"{label:<{width}}  {value}", "  ", "  " + " " * (width + 2)))
    for _, title, part in SECTIONS:
        section(part, title, getattr(report, part))
    if report.explanations:
        lines.extend(["", style("How each conclusion was reached", bold=True)])
        for tree in report.explanations.values():
            lines.extend(tree_lines(tree, "  "))
    if report.sources:
        lines.extend(["", style("Sources", bold=True)])
        for source_id, title, publisher in report.sources:
            lines.extend(_wrap(f"[{source_id}] {title}, {publisher}", "  ", "    "))
    lines.extend([""] + _wrap(report.disclaimer, ""))
    lines.append(f"Knowledge base {report.knowledge_version}")
    return "\n".join(lines) + "\n"


def tree_lines(tree: dict | None, indent: str = "") -> list[str]:
    """A derivation tree (``how``) as indented lines."""
    if not tree:
        return []
    head = f"{tree.get('label') or tree.get('id') or tree['rule']} [{tree['rule']}]"
    if "score" in tree:
        head += f" score {tree['score']:.2f}"
    if "level" in tree:
        head += f" level {tree['level']}"
    lines = _wrap(head, indent, indent + "    ")
    if tree.get("condition"):
        lines += _wrap(f"when: {tree['condition']}", indent + "    ", indent + "      ")
    if tree.get("facts"):
        facts = ", ".join(f"{f['id']} = {_plain(f['value'])}" for f in tree["facts"])
        lines += _wrap(f"facts: {facts}", indent + "    ", indent + "      ")
    if tree.get("not_reported"):
        lines += _wrap("not reported: " + ", ".join(tree["not_reported"]), indent + "    ", indent + "      ")
    if tree.get("cf") is not None:
        lines += _wrap(f"weight: cf {tree['cf']:+g}", indent + "    ")
    if tree.get("sources"):
        lines += _wrap("sources: " + ", ".join(tree["sources"]), indent + "    ")
    for child in tree.get("because", []):
        lines += tree_lines(child, indent + "  ")
    return lines


def why_not_lines(answer: dict) -> list[str]:
    """A ``why_not`` answer as indented lines."""
    lines = _wrap(f"{answer['label'] or answer['id']}: {answer['summary']}", "")
    for rule in answer["rules"]:
        lines += _wrap(f"rule {rule['rule']} ({'fired' if rule['fired'] else 'did not fire'}): {rule['condition']}",
                       "  ", "    ")
        for status in ("met", "contradicted", "missing"):
            for entry in rule[status]:
                text = f"{status}: {entry['condition']}"
                if "answer" in entry:
                    text += f" (answered {_plain(entry['answer'])})"
                lines += _wrap(text, "    ", "      ")
    return lines


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


# --------------------------------------------------------------------------- markdown

def render_markdown(report: Report) -> str:
    out = ["# Spasm Expert assessment", "", f"**{report.level_label}: {report.meaning}**", ""]
    out += [f"**{line}**\n" for line in report.caution]
    out.append(("Raised by: " + "; ".join(report.raised_by)) if report.raised_by
               else "No red flag was found in the answers given.")

    def section(part: str, title: str, items: list[Item]) -> None:
        if not items:
            return
        out.extend(["", f"## {title}", ""])
        numbered = part == "causes"
        for n, item in enumerate(items, 1):
            text = item.title.split(". ", 1)[1] if numbered and ". " in item.title else item.title
            lead = f"{n}." if numbered else "-"
            if item.tag and part == "red_flags":
                text = f"**{item.tag}**: {text}"
            if item.tag and numbered:
                text += f" (score {item.tag})"
            out.append(f"{lead} {text}")
            for detail in item.detail:
                out.append(f"   - {detail}")
            if item.refs and part != "unanswered":
                out.append(f"   - _{item.refs}_")

    if report.answers:
        out.extend(["", "## Answers", "", "| Question | Answer |", "|---|---|"])
        out += [f"| {label} | {value} |" for label, value in report.answers]
    for _, title, part in SECTIONS:
        section(part, title, getattr(report, part))
    if report.explanations:
        out.extend(["", "## How each conclusion was reached", "", "```"])
        for tree in report.explanations.values():
            out.extend(tree_lines(tree))
        out.append("```")
    if report.sources:
        out.extend(["", "## Sources", ""])
        out += [f"- **{sid}**: {title}, {publisher}" for sid, title, publisher in report.sources]
    out.extend(["", f"> {report.disclaimer}", "", f"Knowledge base {report.knowledge_version}"])
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------- html

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;max-width:52rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ccc}
.banner{padding:.8rem 1rem;border-radius:6px;border:2px solid;font-size:1.15rem}
.level{font-weight:700;text-transform:uppercase;letter-spacing:.03em}
table{border-collapse:collapse}td,th{padding:.15rem .8rem .15rem 0;text-align:left;vertical-align:top}
.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;border-radius:3px;background:#eee;margin-right:.3rem}
.refs{color:#666;font-size:.8rem}ul,ol{padding-left:1.3rem}li{margin:.3rem 0}
.disclaimer{margin-top:1.6rem;padding:.6rem 1rem;background:#f5f5f7;border-left:4px solid #888}
pre{white-space:pre-wrap;font-size:.8rem}footer{color:#666;font-size:.8rem;margin-top:1rem}
@media print{body{margin:0;max-width:none;font-size:11pt}.banner{border-width:3px}h2{break-after:avoid}
li{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def render_html(report: Report) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>Spasm Expert assessment</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Spasm Expert assessment</h1>",
             f'<section id="triage" class="banner {esc(report.level)}" style="background:{esc(report.tint)};'
             f'border-color:{esc(report.html_colour)}"><span class="level">'
             f"{esc(report.level_label)}</span>: {esc(report.meaning)}<br><small>"
             + "".join(f"<strong>{esc(line)}</strong><br>" for line in report.caution)
             + (esc("Raised by: " + "; ".join(report.raised_by)) if report.raised_by
                else "No red flag was found in the answers given.") + "</small></section>"]

    def section(section_id: str, title: str, items: list[Item], ordered: bool = False) -> None:
        parts.append(f'<section id="{section_id}"><h2>{esc(title)}</h2>')
        if not items:
            parts.append("<p>None.</p></section>")
            return
        tag = "ol" if ordered else "ul"
        parts.append(f"<{tag}>")
        for item in items:
            text = item.title.split(". ", 1)[1] if ordered and ". " in item.title else item.title
            badge = f'<span class="tag">{esc(item.tag)}</span>' if item.tag else ""
            details = "".join(f"<br>{esc(d)}" for d in item.detail)
            refs = f'<br><span class="refs">{esc(item.refs)}</span>' if item.refs else ""
            parts.append(f"<li>{badge}{esc(text)}{details}{refs}</li>")
        parts.append(f"</{tag}></section>")

    parts.append('<section id="answers"><h2>Answers</h2><table>')
    parts += [f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in report.answers]
    parts.append("</table></section>")
    for section_id, title, part in SECTIONS:
        section(section_id, title, getattr(report, part), ordered=part == "causes")
    if report.explanations:
        parts.append('<section id="explanations"><h2>How each conclusion was reached</h2><pre>')
        for tree in report.explanations.values():
            parts.append(esc("\n".join(tree_lines(tree))))
        parts.append("</pre></section>")
    parts.append('<section id="sources"><h2>Sources</h2><ul>')
    parts += [f"<li><b>{esc(sid)}</b>: {esc(title)}, {esc(publisher)}</li>" for sid, title, publisher in report.sources]
    parts.append("</ul></section>")
    parts.append(f'<section id="disclaimer" class="disclaimer">{esc(report.disclaimer)}</section>')
    parts.append(f"<footer>Knowledge base {esc(report.knowledge_version)}</footer></body></html>")
    return "\n".join(parts) + "\n"


def render(assessment, fmt: str, explain: bool = False, color: bool = False) -> str:
    """The assessment in one of the formats of ``spasm assess --format``."""
    if fmt == "json":
        return assessment.to_json(explain=explain) + "\n"
    report = build(assessment, explain)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    return render_text(report, color)
