"""Reports a clinician can read and keep: text (80 columns), markdown and self-contained HTML.

A report opens with a summary that answers the question on one screen: the triage and why, what
could still raise it, the red flags (possible ones plainly marked, with the question that would
settle them), the three leading causes with their key evidence, the tests to consider and the
questions still open. The details follow: the answers (what is present, then the pertinent
negatives on one line), every red flag and cause with its evidence, advice, the questions that
could change the result, and the sources. Rule ids and derivations appear under ``--explain``.
"""
from __future__ import annotations

import dataclasses
import datetime
import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

import click

WIDTH = 80
#: The summary shows at most this many tests and open questions; the details list them all.
SUMMARY_TESTS = 3
SUMMARY_OPEN = 4
#: The summary's height: one screen. Past it, the open questions and then all but one test move
#: to the details (red flags, the triage and the causes always stay).
SUMMARY_LINES = 24
#: The detail sections after the answers, in reading order: (HTML id, title, Report field).
SECTIONS = (
    ("red-flags", "Red flags", "red_flags"),
    ("causes", "Possible causes (most likely first)", "causes"),
    ("advice", "What to do", "advice"),
    ("clinician", "For the clinician (information, not a prescription)", "clinician"),
    ("tests", "Tests a clinician may consider", "tests"),
    ("unanswered", "Questions that could change this result", "unanswered"),
)


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
    """One entry of a detail section, with its supporting lines."""

    title: str
    detail: list[str] = field(default_factory=list)
    tag: str = ""  # a level, a score
    refs: str = ""  # rule id and source ids, shown under --explain


@dataclass
class Summary:
    """What a clinician needs from the assessment, each entry one short line."""

    headline: str
    why: str
    caution: list[str]
    red_flags: list[str]
    causes: list[str]
    tests: list[str]
    still_open: str


@dataclass
class Report:
    level: str
    level_label: str
    summary: Summary
    present: list[str]  # positive answers and values, "Label" or "Label: value"
    absent: list[str]  # pertinent negatives: yes/no questions answered no
    not_known: list[str]
    red_flags: list[Item]
    causes: list[Item]
    advice: list[Item]
    clinician: list[Item]
    tests: list[Item]
    unanswered: list[Item]
    sources: list[tuple[str, str, str]]
    disclaimer: str
    knowledge_version: str
    date: str
    ref: str | None = None
    colour: str | None = None  # the level's terminal colour
    html_colour: str = "#555555"
    tint: str = "#f5f5f5"
    explain: bool = False
    explanations: dict[str, Any] = field(default_factory=dict)

    @property
    def byline(self) -> str:
        return "Spasm Expert assessment · " + self.date + (f" · ref {self.ref}" if self.ref else "")


def _labels(kb, ids) -> str:
    """Observation labels in a sentence: ``Swelling, skin change, weakness``."""
    labels = [kb.observations[o].label for o in ids]
    return ", ".join([labels[0], *(label[:1].lower() + label[1:] for label in labels[1:])]) if labels else ""


def _shorten(text: str, width: int) -> str:
    return textwrap.shorten(text, width, placeholder=" …")


def build(assessment, explain: bool = False, ref: str | None = None, date: str | None = None) -> Report:
    """Gather what an assessment says into the summary and the detail sections."""
    kb = assessment.kb
    obs = kb.observations
    triage = assessment.triage
    shown = kb.triage_levels[triage.level]

    def answers_text(support) -> str:
        return "; ".join(f"{obs[i].label}: {value_text(obs[i], v)}" for i, v in support.facts)

    def key_evidence(support) -> str:
        """The answers a rule rests on, briefly: "hot environment, heavy sweating, age 67 years"."""
        words = [obs[i].label if v is True else f"{obs[i].label} {value_text(obs[i], v)}" for i, v in support.facts]
        return ", ".join(w[:1].lower() + w[1:] for w in words)

    def refs(support) -> str:
        return f"{support.rule} · {', '.join(support.sources)}"

    # ----------------------------------------------------------------------- summary
    if triage.because:
        why = "Because: " + "; ".join(kb.rules[r].label for r in triage.because)
    elif triage.could_rise_to is not None:
        why = "No red flag found in the answers so far, but the screening is incomplete."
    else:
        why = "No red flag was found in the answers given."
    caution = []
    if triage.provisional:
        caution.append("Provisional: set by a possible red flag that an unanswered question could rule out.")
    if triage.could_rise_to is not None:
        rise = kb.triage_levels[triage.could_rise_to]
        more = len(triage.questions) - SUMMARY_OPEN
        caution.append(f"Not yet ruled out: {rise.label.upper()}. Not checked: {_labels(kb, triage.questions[:SUMMARY_OPEN])}"
                       + (f" and {more} more" if more > 0 else "") + ".")
    flag_lines = []
    # Confirmed flags of a lower level than the triage share one line per level when there are
    # more than two of them: every flag stays in view, the ones that set the triage stand out.
    minor: dict[str, list[str]] = {}
    for flag in assessment.red_flags:
        level = kb.triage_levels[flag.level].label.lower()
        if flag.status == "possible":
            flag_lines.append(f"? Possible: {flag.label} ({level}); settle by asking about: {_labels(kb, flag.pending)}")
        elif flag.level != triage.level:
            minor.setdefault(level, []).append(flag.label)
        else:
            flag_lines.append(f"! {flag.label} ({level})")
    for level, labels in minor.items():
        if len(labels) > 2:
            flag_lines.append(f"! Also {level}: " + "; ".join([labels[0], *(x[:1].lower() + x[1:] for x in labels[1:])]))
        else:
            flag_lines += [f"! {label} ({level})" for label in labels]
    cause_lines = []
    for rank, cause in enumerate(assessment.leading_causes(), 1):
        evidence = key_evidence(max(cause.supporting, key=lambda s: s.cf or 0))
        cause_lines.append(_shorten(f"{rank}. {cause.label} ({cause.score:.2f})" + (f": {evidence}" if evidence else ""),
                                    WIDTH - 2))
    if not cause_lines and assessment.causes:
        cause_lines.append(f"None stands out yet ({len(assessment.causes)} possible, weakly supported: see below)")
    tests = [_shorten(t.text, WIDTH - 4) for t in assessment.tests]
    open_questions = [o for o in assessment.unanswered if o not in triage.questions]
    still_open = ""
    if open_questions:
        more = len(open_questions) - SUMMARY_OPEN
        still_open = ("Could also change the causes: " + _labels(kb, open_questions[:SUMMARY_OPEN])
                      + (f" and {more} more" if more > 0 else ""))
    summary = Summary(f"{shown.label.upper()}: {shown.meaning}", why, caution, flag_lines, cause_lines,
                      tests[:SUMMARY_TESTS] + ([f"(and {len(tests) - SUMMARY_TESTS} more below)"]
                                           if len(tests) > SUMMARY_TESTS else []), still_open)

    # ----------------------------------------------------------------------- details
    def flag_item(flag) -> Item:
        detail = [flag.reason, "Because: " + (answers_text(flag.support) or "nothing reported")]
        if flag.status == "possible":
            detail.insert(0, "Possible: not yet ruled out. Would be settled by: "
                          + "; ".join(obs[o].question for o in flag.pending))
        tag = kb.triage_levels[flag.level].label.lower() + (", possible" if flag.status == "possible" else "")
        return Item(flag.label, detail, tag, refs(flag.support))

    def evidence_text(support) -> str:
        """``for (+0.4): what the rule says, from: the answers it rests on``."""
        rule = kb.rules[support.rule]
        polarity = "for" if support.cf > 0 else "against"
        what = rule.label or "; ".join(kb.findings[f].label for f in support.findings[-1:])
        answers = answers_text(support)
        if what and answers:
            return f"{polarity} ({support.cf:+g}): {what}, from {answers}"
        return f"{polarity} ({support.cf:+g}): {what or answers or 'nothing reported'}"

    causes = [Item(f"{rank}. {cause.label}", [evidence_text(s) for s in cause.supporting + cause.opposing],
                   f"{cause.score:.2f}", ", ".join(s.rule for s in cause.supporting + cause.opposing))
              for rank, cause in enumerate(assessment.causes, 1)]
    unanswered = [Item(obs[o].question) for o in assessment.unanswered]
    cited: list[str] = []
    for support in [f.support for f in assessment.red_flags] + [s for c in assessment.causes for s in
                                                                c.supporting + c.opposing] + \
            [a.support for a in assessment.advice] + [t.support for t in assessment.tests]:
        cited += [s for s in support.sources if s not in cited]
    present: list[str] = []
    absent: list[str] = []
    not_known: list[str] = []
    case = assessment.case
    for observation in obs.values():
        if observation.id in case.skipped:
            not_known.append(observation.label)
        elif observation.id in case.answers:
            value = case.answers[observation.id]
            if observation.type == "bool":
                (present if value else absent).append(observation.label)
            else:
                present.append(f"{observation.label}: {value_text(observation, value)}")
    return Report(
        level=triage.level, level_label=shown.label, summary=summary, present=present, absent=absent,
        not_known=not_known, red_flags=[flag_item(f) for f in assessment.red_flags], causes=causes,
        advice=[Item(a.text, refs=refs(a.support)) for a in assessment.advice if a.audience == "person"],
        clinician=[Item(a.text, refs=refs(a.support)) for a in assessment.advice if a.audience == "clinician"],
        tests=[Item(t.text, refs=refs(t.support)) for t in assessment.tests], unanswered=unanswered,
        sources=[(s, kb.sources[s].title, kb.sources[s].publisher) for s in kb.sources if s in cited],
        disclaimer=assessment.disclaimer, knowledge_version=assessment.knowledge_version,
        date=date or datetime.date.today().isoformat(), ref=ref, colour=shown.terminal_colour,
        html_colour=shown.colour, tint=shown.tint, explain=explain,
        explanations={key: tree.to_dict() for key, tree in assessment.explanations().items()} if explain else {})


# ------------------------------------------------------------------------------- text

def _wrap(text: str, indent: str, hang: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=hang if hang is not None else indent,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def summary_lines(report: Report, color: bool = False) -> list[str]:
    """The summary block: for a typical case, under 24 lines of 80 columns."""
    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    summary = report.summary
    lines = _summary_lines(report, summary, style)
    if len(lines) > SUMMARY_LINES and summary.still_open:
        summary = dataclasses.replace(summary, still_open="")
        lines = _summary_lines(report, summary, style)
    if len(lines) > SUMMARY_LINES and len(summary.tests) > 1:
        tests = [entry for entry in report.tests]
        summary = dataclasses.replace(summary, tests=[_shorten(tests[0].title, WIDTH - 4),
                                                      f"(and {len(tests) - 1} more below)"])
        lines = _summary_lines(report, summary, style)
    return lines


def _summary_lines(report: Report, summary: Summary, style) -> list[str]:
    lines = [style(report.byline, dim=True)]
    lines += [style(line, fg=report.colour, bold=True) for line in _wrap(summary.headline, "")]
    lines += _wrap(summary.why, "", "  ")
    for line in summary.caution:
        lines += [style(text, bold=True) for text in _wrap(line, "", "  ")]
    for title, entries in (("Red flags", summary.red_flags), ("Likely causes", summary.causes),
                           ("Tests to consider", summary.tests)):
        if entries:
            lines.append(style(title, bold=True))
            for entry in entries:
                lines += _wrap(("- " if title == "Tests to consider" else "") + entry, "  ", "    ")
    if summary.still_open:
        lines += _wrap(summary.still_open, "", "  ")
    lines += _wrap(report.disclaimer.split(". ")[0].rstrip(".") + ".", "")
    return lines


def detail_lines(report: Report, color: bool = False) -> list[str]:
    """Everything behind the summary: answers, red flags, causes with evidence, advice, sources."""
    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    lines = [style("Answers", bold=True)]
    for title, entries in (("Present", report.present), ("Not present", report.absent),
                           ("Not known", report.not_known)):
        if entries:
            lines += _wrap(f"{title}: " + "; ".join(entries), "  ", "    ")
    if not (report.present or report.absent or report.not_known):
        lines.append("  none given")
    for _, title, part in SECTIONS:
        items: list[Item] = getattr(report, part)
        if not items:
            continue
        lines.extend(["", style(title, bold=True)])
        for item in items:
            head = item.title if part == "causes" else "- " + item.title
            if item.tag:
                head += f"  ({'score ' if part == 'causes' else ''}{item.tag})"
            lines.extend(_wrap(head, "  ", "    "))
            for detail in item.detail:
                lines.extend(_wrap(detail, "      ", "        " if detail.startswith(("for ", "against ")) else None))
            if item.refs and report.explain:
                lines.extend(style(line, dim=True) for line in _wrap(f"[{item.refs}]", "      ", "        "))
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
    return lines


def render_text(report: Report, color: bool = False, summary_last: bool = False) -> str:
    """The report at 80 columns; ``summary_last`` puts the summary at the end, where a terminal
    that has just run an interview still shows it."""
    summary, details = summary_lines(report, color), detail_lines(report, color)
    rule = "-" * WIDTH
    parts = details + [rule] + summary if summary_last else summary + [rule] + details
    return "\n".join(parts) + "\n"


def tree_lines(tree: dict[str, Any] | None, indent: str = "") -> list[str]:
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


def why_not_lines(answer: dict[str, Any]) -> list[str]:
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
    summary = report.summary
    out = ["# Spasm Expert assessment", "", f"_{report.byline}_", "", f"**{summary.headline}**", "", summary.why]
    out += [f"\n**{line}**" for line in summary.caution]
    for title, entries in (("Red flags", summary.red_flags), ("Likely causes", summary.causes),
                           ("Tests to consider", summary.tests)):
        if entries:
            out.extend(["", f"**{title}**", ""] + [f"- {entry}" for entry in entries])
    if summary.still_open:
        out.extend(["", summary.still_open])
    out.extend(["", "## Answers", ""])
    for title, entries in (("Present", report.present), ("Not present", report.absent),
                           ("Not known", report.not_known)):
        if entries:
            out.append(f"- **{title}:** " + "; ".join(entries))
    for _, title, part in SECTIONS:
        items: list[Item] = getattr(report, part)
        if not items:
            continue
        out.extend(["", f"## {title}", ""])
        numbered = part == "causes"
        for n, item in enumerate(items, 1):
            text = item.title.split(". ", 1)[1] if numbered and ". " in item.title else item.title
            if item.tag:
                text += f" ({'score ' if numbered else ''}{item.tag})"
            out.append(f"{n}. {text}" if numbered else f"- {text}")
            out += [f"   - {detail}" for detail in item.detail]
            if item.refs and report.explain:
                out.append(f"   - _{item.refs}_")
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
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ccc}
.byline{color:#666;font-size:.85rem;margin:0 0 1rem}
.banner{padding:.8rem 1rem;border-radius:6px;border:2px solid;font-size:1.15rem}
.level{font-weight:700;text-transform:uppercase;letter-spacing:.03em}
.summary h3{font-size:1rem;margin:.8rem 0 .2rem}
.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;border-radius:3px;background:#eee;margin-right:.3rem}
.refs{color:#666;font-size:.8rem}ul,ol{padding-left:1.3rem}li{margin:.3rem 0}
.disclaimer{margin-top:1.6rem;padding:.6rem 1rem;background:#f5f5f7;border-left:4px solid #888}
pre{white-space:pre-wrap;font-size:.8rem}footer{color:#666;font-size:.8rem;margin-top:1rem}
@media print{body{margin:0;max-width:none;font-size:11pt}.banner{border-width:3px}h2{break-after:avoid}
li{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def render_html(report: Report) -> str:
    esc = html.escape
    summary = report.summary
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>Spasm Expert assessment</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Spasm Expert assessment</h1>", f'<p class="byline">{esc(report.byline)}</p>',
             f'<section id="triage" class="banner {esc(report.level)}" style="background:{esc(report.tint)};'
             f'border-color:{esc(report.html_colour)}"><span class="level">{esc(summary.headline)}</span><br><small>'
             + "".join(f"<strong>{esc(line)}</strong><br>" for line in summary.caution)
             + esc(summary.why) + "</small></section>", '<section id="summary" class="summary">']
    for title, entries in (("Red flags", summary.red_flags), ("Likely causes", summary.causes),
                           ("Tests to consider", summary.tests)):
        if entries:
            parts.append(f"<h3>{esc(title)}</h3><ul>" + "".join(f"<li>{esc(e)}</li>" for e in entries) + "</ul>")
    if summary.still_open:
        parts.append(f"<p>{esc(summary.still_open)}</p>")
    parts.append("</section>")
    parts.append('<section id="answers"><h2>Answers</h2><ul>')
    for title, entries in (("Present", report.present), ("Not present", report.absent),
                           ("Not known", report.not_known)):
        if entries:
            parts.append(f"<li><b>{esc(title)}:</b> {esc('; '.join(entries))}</li>")
    parts.append("</ul></section>")
    for section_id, title, part in SECTIONS:
        items: list[Item] = getattr(report, part)
        parts.append(f'<section id="{section_id}"><h2>{esc(title)}</h2>')
        if not items:
            parts.append("<p>None.</p></section>")
            continue
        ordered = part == "causes"
        parts.append("<ol>" if ordered else "<ul>")
        for item in items:
            text = item.title.split(". ", 1)[1] if ordered and ". " in item.title else item.title
            badge = f'<span class="tag">{esc(item.tag)}</span>' if item.tag else ""
            details = "".join(f"<br>{esc(d)}" for d in item.detail)
            refs = f'<br><span class="refs">{esc(item.refs)}</span>' if item.refs and report.explain else ""
            parts.append(f"<li>{badge}{esc(text)}{details}{refs}</li>")
        parts.append("</ol></section>" if ordered else "</ul></section>")
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


def render(assessment, fmt: str, explain: bool = False, color: bool = False, ref: str | None = None,
           summary_last: bool = False) -> str:
    """The assessment in one of the formats of ``spasm assess --format``."""
    if fmt == "json":
        return assessment.to_json(explain=explain) + "\n"
    report = build(assessment, explain, ref)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    return render_text(report, color, summary_last)
