"""The agreement as an HTML document: one Jinja template set (``templates/agreement/``)
serves the account manager's preview and the PDF.

Which answers triggered each clause (the trace) is shown under every clause in the
preview (``trace="inline"``) and, in the client's PDF, in a closing appendix
(``trace="appendix"``), so the clauses the client signs read as a plain contract.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement, compose
from onboarding.domain.redline import Changes
from onboarding.domain.resources import project_dir
from onboarding.rendering.figures import roadmap_svg

PAPER = {"a4": "A4", "letter": "letter"}
"""Paper sizes a caller may ask for, and their CSS ``@page size``."""

TRACE_MODES = ("inline", "appendix", "none")


def templates_dir() -> Path:
    """The project's ``templates/`` folder, or its packaged copy (as the Flask app uses)."""
    return project_dir("templates")


_env_lock = threading.Lock()
_env: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The Jinja environment of the agreement templates (autoescape on), made once."""
    global _env
    with _env_lock:
        if _env is None:
            _env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(templates_dir())),
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
            )
        return _env


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def html_for(
    agreement: Agreement,
    *,
    static_base: str | None = "/static/",
    paper: str = "a4",
    trace: str = "inline",
    block: str | None = None,
    changes: Changes | None = None,
) -> str:
    """The agreement as an HTML document.

    ``static_base`` prefixes ``agreement.css`` in the stylesheet link (``"/static/"`` in
    the app, ``file:///.../onboarding/static/`` for a file preview); ``None`` leaves the
    link out (the PDF renderer passes the parsed stylesheet itself). ``trace`` shows
    which answers triggered each clause: ``"inline"`` under each clause (the account
    manager's preview), ``"appendix"`` in a closing appendix (the client's PDF) or
    ``"none"``. ``block="document"`` gives only the agreement's content, the document's
    ``<main>`` without the page around it (the prospect's signing page keeps it with
    each version sent, and wraps it in its own layout). ``changes`` (a version that
    follows another) adds the page "Changes since version n" after the cover.
    """
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    if trace not in TRACE_MODES:
        raise ValueError(f"trace must be one of {', '.join(TRACE_MODES)} (got {trace!r})")
    template = environment().get_template("agreement/document.html")
    contents = [
        {"number": str(s.number), "title": s.title, "anchor": s.anchor} for s in agreement.sections
    ]
    if agreement.standard_sections:
        contents.append({"number": "", "title": "Standard terms", "anchor": "standard-terms"})
    contents.append({"number": "", "title": "Signatures", "anchor": "signatures"})
    if trace == "appendix":
        contents.append(
            {
                "number": "",
                "title": "What you asked for and how we will handle it",
                "anchor": "asked",
            }
        )
    context = {
        "a": agreement,
        "contents": contents,
        "paper_css": PAPER[paper],
        "static_base": static_base,
        "trace": trace,
        "roadmap_svg": roadmap_svg(agreement.roadmap),
        "header_company": _short(agreement.company, 60),
        "short_hash": agreement.sha256[:16],
        "changes": changes,
    }
    if block is not None:
        return "".join(template.blocks[block](template.new_context(context)))
    return template.render(context)


def compose_agreement(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    agency: str | None,
    date: dt.date | str | None,
) -> Agreement:
    return compose(
        answers,
        assessment,
        agency=agency or DEFAULT_AGENCY,
        date=date if date is not None else dt.date.today(),
    )


def agreement_html(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    static_base: str = "/static/",
    paper: str = "a4",
    agency: str = DEFAULT_AGENCY,
    date: dt.date | str | None = None,
    trace: str = "inline",
) -> str:
    """The HTML preview of the agreement (raises AnswersInvalid for invalid answers)."""
    agreement = compose_agreement(answers, assessment, agency, date)
    return html_for(agreement, static_base=static_base, paper=paper, trace=trace)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def filename_for(agreement: Agreement) -> str:
    """``Agreement - <company> - <date>.pdf``, safe as a file name on any system."""
    company = unicodedata.normalize("NFKC", agreement.company)
    company = _UNSAFE.sub(" ", company)
    company = " ".join(company.split()).strip(". ") or "Client"
    return f"Agreement - {_short(company, 80)} - {agreement.date}.pdf"


def certificate_html(facts: Mapping[str, str], *, title: str, paper: str = "a4") -> str:
    """A one-page certificate of acceptance (the facts as a table), as HTML."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    return (
        environment()
        .get_template("agreement/certificate.html")
        .render(facts=facts, title=title, paper_css=PAPER[paper])
    )
