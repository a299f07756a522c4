"""An assessment as a CDS Hooks 2.0 card: summary, indicator, Markdown detail, source, links.

Built from the assessment's contract JSON only, so a card says nothing the assessment does not.
The indicator follows the triage: ``critical`` for emergency and urgent, ``warning`` for routine,
``info`` for self care. The detail always ends with the knowledge base's decision-support
statement: the service suggests, it never diagnoses.
"""
from __future__ import annotations

import re
import uuid

INDICATORS = {"emergency": "critical", "urgent": "critical", "routine": "warning", "self_care": "info"}
SUMMARY_LIMIT = 139  # CDS Hooks: a summary is under 140 characters
TOP_CAUSES = 5
OVERRIDE_SYSTEM = "urn:spasm-expert:cds-hooks:override-reason"
OVERRIDE_REASONS = (("already-assessed", "Already assessed by a clinician"),
                    ("answers-outdated", "The questionnaire answers are out of date"),
                    ("not-relevant", "Not relevant to this visit"))
TOPIC = {"system": "urn:spasm-expert:cds-hooks:topic", "code": "involuntary-movements",
         "display": "Involuntary muscle movements"}


def markdown_text(text: str) -> str:
    """Knowledge-base text made literal in Markdown (no emphasis, links or HTML from it)."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(str(text).split()))


def summary(assessment: dict) -> str:
    """One sentence under 140 characters: the triage, the most urgent red flag, the leading cause."""
    triage = assessment["triage"]
    parts = [f"{triage['label']}"]
    if assessment["red_flags"]:
        parts.append(f"red flag: {assessment['red_flags'][0]['label']}")
    if assessment["causes"]:
        parts.append(f"leading possible cause: {assessment['causes'][0]['label']}")
    text = " - ".join(parts) + "."
    if len(text) > SUMMARY_LIMIT:
        text = text[:SUMMARY_LIMIT - 3].rstrip() + "..."
    return text


def detail(assessment: dict, kb, authored: str | None) -> str:
    """The card's Markdown: triage, every red flag, top causes, tests, open questions, the statement."""
    triage = assessment["triage"]
    lines = [f"**Triage: {markdown_text(triage['label'])}.** {markdown_text(triage.get('meaning', ''))}", ""]
    if assessment["red_flags"]:
        lines.append("**Red flags**")
        lines += [f"- {markdown_text(f['label'])} ({f['level']}): {markdown_text(f.get('reason', ''))}"
                  for f in assessment["red_flags"]]
        lines.append("")
    if assessment["causes"]:
        lines.append("**Possible causes**, strongest evidence first (scores from -1 to 1 rank the evidence; "
                     "they are not probabilities)")
        lines += [f"- {markdown_text(c['label'])} ({c['score']:+.2f})" for c in assessment["causes"][:TOP_CAUSES]]
        if len(assessment["causes"]) > TOP_CAUSES:
            lines.append(f"- and {len(assessment['causes']) - TOP_CAUSES} more")
        lines.append("")
    if assessment["tests"]:
        lines.append("**Tests a clinician may consider**")
        lines += [f"- {markdown_text(t['text'])}" for t in assessment["tests"]]
        lines.append("")
    if assessment["unanswered"]:
        lines += [f"{len(assessment['unanswered'])} unanswered questions could still change this result.", ""]
    basis = f"the questionnaire response authored {authored}" if authored else "the questionnaire response"
    lines += [f"From {basis}; knowledge base {markdown_text(kb.name)} {kb.knowledge_version}.", "",
              f"*{markdown_text(assessment['disclaimer'])}*"]
    return "\n".join(lines)


def card(assessment: dict, kb, *, authored: str | None = None, link: dict | None = None) -> dict:
    """The card for one assessment (a fresh uuid, for feedback)."""
    result = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(assessment),
        "indicator": INDICATORS[assessment["triage"]["level"]],
        "detail": detail(assessment, kb, authored),
        "source": {"label": f"{kb.name} {kb.version}", "topic": TOPIC},
        "overrideReasons": [{"system": OVERRIDE_SYSTEM, "code": code, "display": display}
                            for code, display in OVERRIDE_REASONS],
    }
    if link and assessment["unanswered"]:
        result["links"] = [link]
    return result


def interview_link(assessment: dict, app_url: str | None, questionnaire_url: str) -> dict:
    """A link to go on with the interview: the SMART app when one is configured (type ``smart``),
    otherwise the service's adaptive Questionnaire (type ``absolute``)."""
    label = f"Continue the interview ({len(assessment['unanswered'])} questions could change this result)"
    if app_url:
        return {"label": label, "url": app_url, "type": "smart"}
    return {"label": label, "url": questionnaire_url, "type": "absolute"}
