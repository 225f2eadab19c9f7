"""The agreement as an HTML document: one Jinja template set (``templates/agreement/``)
serves the account manager's preview and the PDF.

Which answers triggered each clause (the trace) is shown under every clause in the
account manager's preview (``trace="inline"``) and never in the client's copy
(``trace="appendix"``, the PDF and the prospect's page, or ``"none"``): the clauses the
client signs read as a plain contract, with no quote of the client and no wish.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

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
    manager's preview); ``"appendix"`` (the client's PDF and page, whose name is kept for
    the callers) and ``"none"`` show no trace at all. ``block="document"`` gives only
    the agreement's content, the document's ``<main>`` without the page around it (the
    prospect's signing page keeps it with each version sent, and wraps it in its own
    layout). ``changes`` (a version that follows another) adds the page "Changes since
    version n" after the cover.
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


@dataclass(frozen=True)
class SignatureMark:
    """One party's signature, filled into the agreement's signature block."""

    party: int  # 0: the Client, 1: the Agency (the order of ``Agreement.parties``)
    organisation: str  # shown on a signature page made afresh (no frozen page)
    name: str
    title: str  # "" keeps the title the document prints
    signed_at: str  # "2026-11-27 14:03:07 UTC"


@dataclass(frozen=True)
class CertificatePart:
    heading: str
    facts: Mapping[str, str]  # label -> value, in order


@dataclass(frozen=True)
class Certificate:
    """What a certificate page states: what the file is and where it came from (the
    paragraphs of ``lead``), then each event (who, when, from where)."""

    heading: str
    lead: tuple[str, ...]
    parts: tuple[CertificatePart, ...]
    verify_url: str = ""  # the public verification page (a QR code and the short link)

    @property
    def verify_qr(self) -> Markup:
        """The QR code of :attr:`verify_url` as inline SVG with its words (role img)."""
        return verify_qr_svg(self.verify_url) if self.verify_url else Markup("")


QR_CLASS = "certificate__qr-code"


def verify_qr_svg(url: str) -> Markup:
    """A QR code of ``url`` as inline SVG (segno; no image request), described in words."""
    import segno

    svg = segno.make(url, error="m").svg_inline(
        scale=2, dark="#0b0c0c", light="#ffffff", title=f"QR code: {url}", svgclass=QR_CLASS
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno escapes


_SIGNATURES = re.compile(
    r'<section class="signatures" id="signatures"[^>]*>.*?</section>', re.DOTALL
)
_BLOCK = '<div class="signature">'


def _fill_line(block: str, label: str, value: str, *, replace: bool) -> str | None:
    """Fill the line ``label`` of one party's block with ``value`` (escaped); None when
    the block does not have exactly one such line."""
    pattern = re.compile(
        r'(<div class="signature__line(?: signature__line--sign)?"><span>'
        + re.escape(label)
        + r"</span>)(<strong>[^<]*</strong>)?(</div>)"
    )
    found = pattern.findall(block)
    if len(found) != 1:
        return None
    if label == "Signature":
        filled = f'<em class="signature__mark">{escape(value)}</em>'
    else:
        filled = f"<strong>{escape(value)}</strong>"
    if not replace:
        return block
    return pattern.sub(lambda m: m.group(1) + filled + m.group(3), block)


def fill_signatures(body: str, marks: Sequence[SignatureMark]) -> str | None:
    """The agreement's frozen HTML with the parties' signatures filled in: each signing
    party's block gets the signature, name, title (when given) and date.

    ``body`` is our agreement template's output (``html_for(..., block="document")``);
    None when it does not hold the signature block that template makes (one section,
    one block per party), so the caller appends a signature page instead.
    """
    sections = _SIGNATURES.findall(body)
    if len(sections) != 1:
        return None
    section = sections[0]
    head, *blocks = section.split(_BLOCK)
    if len(blocks) != 2:
        return None
    for mark in marks:
        if mark.party not in (0, 1):
            return None
        block = blocks[mark.party]
        for label, value, replace in (
            ("Signature", mark.name, True),
            ("Name", mark.name, True),
            ("Title", mark.title, bool(mark.title)),  # or keep it
            ("Date", mark.signed_at, True),
        ):
            block = _fill_line(block, label, value, replace=replace)
            if block is None:
                return None
        blocks[mark.party] = block
    filled = _BLOCK.join([head, *blocks])
    if marks:
        note = (
            '<p class="signature__how">Signed electronically: the certificate at the end '
            "records who signed, when and from where.</p>\n"
        )
        filled = filled[: -len("</section>")] + note + "</section>"
    return body.replace(section, filled, 1)


_PARTY_LINE = {
    "legal_name": ('<p class="party__name" data-party-line="legal_name">', ""),
    "address": ('<p class="party__detail" data-party-line="address">', "Registered address: "),
    "signatory": ('<p class="party__detail" data-party-line="signatory">', "Represented by "),
    "email": ('<p class="party__detail" data-party-line="email">', ""),
}


def fill_party(body: str, role: str, lines: Mapping[str, str]) -> str:
    """The agreement's frozen HTML with lines of one party's block (``role``: client
    or agency) replaced: ``legal_name``, ``address`` (added after the name when the
    block had none), ``signatory`` and ``email`` (texts, escaped here). A page frozen before
    the party block marked its lines is returned as it is."""
    start = body.find(f'<div class="party" data-party="{role}">')
    if start < 0:
        return body
    end = body.find("</div>", start)
    if end < 0:
        return body
    block = body[start:end]
    for line, value in lines.items():
        if not value or line not in _PARTY_LINE:
            continue
        tag, prefix = _PARTY_LINE[line]
        text = f"{tag}{escape(prefix)}{escape(value)}</p>"
        at = block.find(tag)
        if at >= 0:
            close = block.find("</p>", at)
            block = block[:at] + text + block[close + len("</p>") :]
        elif line == "address":
            name_tag = _PARTY_LINE["legal_name"][0]
            name_at = block.find(name_tag)
            if name_at >= 0:
                after = block.find("</p>", name_at) + len("</p>")
                block = block[:after] + "\n    " + text + block[after:]
    return body[:start] + block + body[end:]


def signed_html(
    *,
    title: str,
    body: str,
    stylesheet: str,
    paper: str,
    marks: Sequence[SignatureMark],
    certificate: Certificate,
    meta: Mapping[str, str],
) -> str | None:
    """A signed copy: the agreement's page frozen when it was sent (``body``, with the
    ``stylesheet`` frozen with it), its signature block filled in with ``marks``, then
    the certificate, as one HTML document to render.

    None when the frozen page cannot take the signatures (:func:`fill_signatures`) or
    its stylesheet cannot be inlined: the caller then appends a signature page and the
    certificate to the PDF as sent (:func:`certificate_html`).
    """
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    filled = fill_signatures(body, marks)
    if filled is None or "</style" in stylesheet.lower():
        return None
    return (
        environment()
        .get_template("agreement/signed.html")
        .render(
            title=title,
            meta=meta,
            stylesheet=stylesheet,
            paper_css=PAPER[paper],
            draft='class="draft-banner"' in filled,
            body=filled,
            certificate=certificate,
        )
    )


def certificate_html(
    facts: Mapping[str, str] | None = None,
    *,
    title: str,
    paper: str = "a4",
    certificate: Certificate | None = None,
    marks: Sequence[SignatureMark] = (),
    document_id: str = "",
) -> str:
    """Pages to append to a PDF as sent: a signature page (when ``marks`` are given) and
    the certificate (``certificate``, or a certificate of acceptance of ``facts``)."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    if certificate is None:
        certificate = Certificate(
            "Certificate of acceptance",
            (
                "This page records how and when the agreement above was accepted. The "
                "SHA-256 fingerprint identifies the exact PDF the client was shown; anyone "
                "holding this file can check it with the agency.",
            ),
            (CertificatePart("", dict(facts or {})),),
        )
    return (
        environment()
        .get_template("agreement/certificate.html")
        .render(
            title=title,
            paper_css=PAPER[paper],
            certificate=certificate,
            marks=tuple(marks),
            document_id=document_id,
        )
    )
