"""The engagement agreement as an HTML preview and as a PDF (WeasyPrint), cached.

For the web layer (no Flask in here)::

    html = agreement_html(answers, assessment, static_base="/static/", date=submitted_on)
    result = render_agreement(answers, assessment, paper="a4", date=submitted_on)
    result.pdf, result.filename, result.document_id, result.sha256

Both take ``agency=`` (the ``AGENCY_NAME`` setting) and ``date=`` (the document date, a
``date`` or ``YYYY-MM-DD``; today when omitted). Pass a stored date (the submission
date, or the day the agreement was issued): the date is part of the agreement, so the
same answers, playbooks, agency and date always give the same document id, the same
SHA-256 and the same PDF bytes.

One template set (``templates/agreement/``) serves the preview and the PDF; the preview
links ``{static_base}agreement.css`` (which loads the Inter fonts next to it), the PDF
gets the same stylesheet parsed once per process.

Which answers triggered each clause (the trace) is shown under every clause in the
preview (``trace="inline"``, for the account manager) and, in the client's PDF, in a
closing appendix, "how your answers shaped this agreement" (``trace="appendix"``), so
the clauses the client signs read as a plain contract.

The PDF renderer (:class:`PdfRenderer`, one per process via :func:`get_renderer`):

- parses ``onboarding/static/agreement.css`` once, with one ``FontConfiguration`` holding
  the packaged Inter fonts, and reuses both for every render (renders are serialised by
  a lock: WeasyPrint does not promise thread safety);
- fetches through :class:`StaticAssetFetcher`, which serves only files under
  ``onboarding/static`` and refuses every other URL (``file:`` elsewhere, ``http(s):``,
  ``data:``...), recording what it served and refused;
- writes a tagged PDF/UA-1 (``pdf_variant="pdf/ua-1"``, which turns ``pdf_tags`` on),
  with title, author, subject, keywords and language from the HTML head, creation and
  modification dates from the document date (``dcterms.created``/``modified``) and a
  file identifier derived from the content hash, so nothing in the file depends on the
  clock or on randomness;
- never uses ``presentational_hints``.

Rendered PDFs are cached by a key made of the agreement's SHA-256, the paper size and
the renderer version (WeasyPrint, templates, stylesheet, fonts): any object with
``get(key) -> bytes | None`` and ``put(key, pdf)`` will do (:class:`PdfCache`); the
default is a per-process :class:`MemoryCache` (LRU); :class:`NoCache` disables caching.

Not done yet (a later issue): a cap on render time and memory. A render takes a few
hundred milliseconds and tens of megabytes for these documents, and the text answers
have maximum lengths, but nothing stops a pathological document here; the intended
fix is rendering in a worker with a timeout and ``RLIMIT_AS``.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import mimetypes
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import jinja2
from markupsafe import Markup, escape

import onboarding

from .domain.agreement import DEFAULT_AGENCY, Agreement, Roadmap, compose

PACKAGE = Path(onboarding.__file__).resolve().parent
STATIC_DIR = PACKAGE / "static"
STYLESHEET = STATIC_DIR / "agreement.css"
FONTS = ("Inter-Regular.otf", "Inter-Italic.otf", "Inter-SemiBold.otf", "Inter-Bold.otf")

PAPER = {"a4": "A4", "letter": "letter"}
"""Paper sizes a caller may ask for, and their CSS ``@page size``."""

TRACE_MODES = ("inline", "appendix", "none")


def templates_dir() -> Path:
    """The project's ``templates/`` folder, or its packaged copy (as the Flask app uses)."""
    source = PACKAGE.parent / "templates"
    return source if source.is_dir() else PACKAGE / "_bundled" / "templates"


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


# --- the roadmap, drawn as SVG ---------------------------------------------------------

PHASE_COLOURS = ("#23395d", "#3b5f96", "#0b6e4f", "#3d9273", "#a86a12")
"""Bar colours by phase; every bar is also named, so colour is never the only cue."""

_SVG_W, _LEFT, _RIGHT = 680, 150, 672
_AXIS_Y, _TOP, _ROW, _BAR = 14, 26, 28, 16


def _f(value: float) -> str:
    """A coordinate with at most one decimal (stable text, small files)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label_step(weeks: int) -> int:
    for step in (1, 2, 4, 5, 8, 10, 13, 26):
        if weeks / step <= 13:
            return step
    return 26


def roadmap_svg(roadmap: Roadmap, *, id_prefix: str = "roadmap") -> Markup:
    """The roadmap as inline SVG: a bar per phase, week ticks, reviews and updates.

    Every text is escaped; ``<title>`` and ``<desc>`` describe the whole figure in words.
    """
    weeks = max(1, roadmap.weeks)
    unit = (_RIGHT - _LEFT) / weeks

    def x_start(week: int) -> float:
        return _LEFT + (week - 1) * unit

    def x_end(week: int) -> float:
        return _LEFT + week * unit

    rows = len(roadmap.phases)
    review_y = _TOP + rows * _ROW + _ROW / 2
    update_y = review_y + _ROW
    legend_y = update_y + _ROW + 4
    height = legend_y + 10
    grid_bottom = update_y + 8
    e = escape
    out: list[str] = []
    add = out.append
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    phases_words = "; ".join(
        f"{p.name}, {p.weeks.lower()}: {p.deliverable.lower()}" for p in roadmap.phases
    )
    reviews = ", ".join(str(w) for w in roadmap.review_weeks)
    desc = (
        f"A {weeks}-week plan in {rows} phases. {phases_words}. Reviews with sign-off in "
        f"week{'s' if len(roadmap.review_weeks) != 1 else ''} {reviews}. "
        f"Updates: {roadmap.cadence}."
    )
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="roadmap__svg" '
        f'viewBox="0 0 {_SVG_W} {_f(height)}" width="{_SVG_W}" height="{_f(height)}" '
        f'role="img" aria-labelledby="{e(title_id)} {e(desc_id)}" '
        f'font-family="Inter, sans-serif">'
    )
    add(f'<title id="{e(title_id)}">Project roadmap</title>')
    add(f'<desc id="{e(desc_id)}">{e(desc)}</desc>')

    # Week grid and axis labels.
    step = _label_step(weeks)
    labelled = sorted({1, weeks, *range(1, weeks + 1, step)})
    if len(labelled) > 2 and labelled[-1] - labelled[-2] < step / 2:
        labelled.pop(-2)  # keep the last label clear of its neighbour
    add('<g class="roadmap__grid" stroke="#e3e6ea" stroke-width="1">')
    for week in range(1, weeks + 2):
        if week in labelled or week == weeks + 1 or weeks <= 26:
            x = _f(x_start(week))
            add(f'<line x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{_f(grid_bottom)}"/>')
    add("</g>")
    add('<g class="roadmap__axis" font-size="10" fill="#555d66" text-anchor="middle">')
    add(f'<text x="{_LEFT - 10}" y="{_AXIS_Y}" text-anchor="end">Week</text>')
    for week in labelled:
        x = _f(x_start(week) + unit / 2)
        add(f'<text x="{x}" y="{_AXIS_Y}">{week}</text>')
    add("</g>")

    # One bar per phase.
    for i, phase in enumerate(roadmap.phases):
        y = _TOP + i * _ROW
        mid = y + _ROW / 2
        colour = PHASE_COLOURS[i % len(PHASE_COLOURS)]
        x0, x1 = x_start(phase.start_week), x_end(phase.end_week)
        span = phase.weeks.replace("Weeks ", "wk ").replace("Week ", "wk ")
        add('<g class="roadmap__phase">')
        add(
            f'<text x="0" y="{_f(mid + 4)}" font-size="11.5" font-weight="600" '
            f'fill="#1b1f24">{e(phase.name)}</text>'
        )
        add(
            f'<text x="{_LEFT - 10}" y="{_f(mid + 4)}" font-size="10" fill="#555d66" '
            f'text-anchor="end">{e(span)}</text>'
        )
        add(
            f'<rect x="{_f(x0 + 1)}" y="{_f(mid - _BAR / 2)}" width="{_f(max(2, x1 - x0 - 2))}" '
            f'height="{_BAR}" rx="3" fill="{colour}"/>'
        )
        add("</g>")

    # Reviews: a dashed line down from the end of each phase to a diamond.
    add('<g class="roadmap__reviews">')
    add(
        f'<text x="0" y="{_f(review_y + 4)}" font-size="11.5" font-weight="600" '
        f'fill="#1b1f24">Reviews</text>'
    )
    for week in roadmap.review_weeks:
        x = x_end(week)
        add(
            f'<line x1="{_f(x)}" y1="{_TOP + 4}" x2="{_f(x)}" y2="{_f(review_y - 7)}" '
            f'stroke="#23395d" stroke-width="1" stroke-dasharray="2 2"/>'
        )
        d = 6
        add(
            f'<path d="M{_f(x)} {_f(review_y - d)} L{_f(x + d)} {_f(review_y)} '
            f'L{_f(x)} {_f(review_y + d)} L{_f(x - d)} {_f(review_y)} Z" fill="#23395d"/>'
        )
    add("</g>")

    # Written updates: a small mark in each week that has one.
    add('<g class="roadmap__updates">')
    add(
        f'<text x="0" y="{_f(update_y + 4)}" font-size="11.5" font-weight="600" '
        f'fill="#1b1f24">Updates</text>'
    )
    marks = roadmap.update_weeks
    for week in marks:
        x = x_start(week) + unit / 2
        if unit >= 7:
            add(f'<circle cx="{_f(x)}" cy="{_f(update_y)}" r="3" fill="#0b6e4f"/>')
        else:
            add(
                f'<rect x="{_f(x - 0.6)}" y="{_f(update_y - 5)}" width="1.2" height="10" '
                f'fill="#0b6e4f"/>'
            )
    add("</g>")

    # Legend, in words.
    ly = legend_y
    add('<g class="roadmap__legend" font-size="10" fill="#555d66">')
    add(
        f'<path d="M{_LEFT + 5} {_f(ly - 9)} L{_LEFT + 10} {_f(ly - 4)} L{_LEFT + 5} {_f(ly + 1)} '
        f'L{_LEFT} {_f(ly - 4)} Z" fill="#23395d"/>'
    )
    add(f'<text x="{_LEFT + 16}" y="{_f(ly)}">Review and sign-off</text>')
    if unit >= 7:
        add(f'<circle cx="{_LEFT + 140}" cy="{_f(ly - 4)}" r="3" fill="#0b6e4f"/>')
    else:
        add(f'<rect x="{_LEFT + 139.4}" y="{_f(ly - 9)}" width="1.2" height="10" fill="#0b6e4f"/>')
    add(f'<text x="{_LEFT + 149}" y="{_f(ly)}">{e(_sentence(roadmap.cadence))}</text>')
    add("</g>")
    add("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- HTML --------------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def html_for(
    agreement: Agreement,
    *,
    static_base: str | None = "/static/",
    paper: str = "a4",
    trace: str = "inline",
) -> str:
    """The agreement as an HTML document.

    ``static_base`` prefixes ``agreement.css`` in the stylesheet link (``"/static/"`` in
    the app, ``file:///.../onboarding/static/`` for a file preview); ``None`` leaves the
    link out (the PDF renderer passes the parsed stylesheet itself). ``trace`` shows
    which answers triggered each clause: ``"inline"`` under each clause (the account
    manager's preview), ``"appendix"`` in a closing appendix (the client's PDF) or
    ``"none"``.
    """
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    if trace not in TRACE_MODES:
        raise ValueError(f"trace must be one of {', '.join(TRACE_MODES)} (got {trace!r})")
    template = environment().get_template("agreement/document.html")
    contents = [
        {"number": str(s.number), "title": s.title, "anchor": s.anchor} for s in agreement.sections
    ]
    contents.append({"number": "", "title": "Signatures", "anchor": "signatures"})
    if trace == "appendix":
        contents.append({"number": "", "title": "Appendix: your answers", "anchor": "appendix"})
    return template.render(
        a=agreement,
        contents=contents,
        paper_css=PAPER[paper],
        static_base=static_base,
        trace=trace,
        roadmap_svg=roadmap_svg(agreement.roadmap),
        header_company=_short(agreement.company, 60),
        short_hash=agreement.sha256[:16],
    )


def _compose(
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
    agreement = _compose(answers, assessment, agency, date)
    return html_for(agreement, static_base=static_base, paper=paper, trace=trace)


# --- fetching: the package's own assets only ---------------------------------------------


class RefusedURL(ValueError):
    """A URL the agreement renderer does not fetch."""


def make_fetcher_class():
    """Build :class:`StaticAssetFetcher` (WeasyPrint is imported only when needed)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticAssetFetcher(URLFetcher):
        """Serve files under one folder (the package's static assets); refuse the rest.

        Only ``file:`` URLs whose real path (symlinks and ``..`` resolved) lies inside
        ``root`` and whose suffix is a stylesheet, font or image are served, from
        memory after the first read. Everything else (``file:`` elsewhere, ``http:``,
        ``https:``, ``data:``, ``ftp:``...) raises :class:`RefusedURL`, which WeasyPrint
        logs and skips. ``served`` and ``refused`` list the URLs, in order.
        """

        SUFFIXES = frozenset({".css", ".otf", ".ttf", ".woff", ".woff2", ".png", ".svg", ".jpg"})
        _memory: dict[Path, bytes] = {}
        _memory_lock = threading.Lock()

        def __init__(self, root: Path = STATIC_DIR):
            super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
            self.root = Path(root).resolve()
            self.served: list[str] = []
            self.refused: list[str] = []

        def path_of(self, url: str) -> Path | None:
            """The file a URL names, if it is one of ours; else None."""
            try:
                parts = urlsplit(url)
            except ValueError:
                return None
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return None
            path = Path(os.path.realpath(unquote(parts.path)))
            if path.suffix.lower() not in self.SUFFIXES or not path.is_relative_to(self.root):
                return None
            return path if path.is_file() else None

        def fetch(self, url, headers=None):
            path = self.path_of(url)
            if path is None:
                self.refused.append(url)
                raise RefusedURL(f"the agreement renderer fetches only its own assets: {url}")
            with self._memory_lock:
                body = self._memory.get(path)
                if body is None:
                    body = self._memory[path] = path.read_bytes()
            self.served.append(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".otf":
                mime = "font/otf"
            return URLFetcherResponse(path.as_uri(), body, {"Content-Type": mime})

    return StaticAssetFetcher


_fetcher_class = None


def __getattr__(name: str) -> Any:
    """``onboarding.pdf.StaticAssetFetcher``, built on first access (imports WeasyPrint)."""
    global _fetcher_class
    if name == "StaticAssetFetcher":
        if _fetcher_class is None:
            _fetcher_class = make_fetcher_class()
        return _fetcher_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fetcher(root: Path = STATIC_DIR):
    """A new :class:`StaticAssetFetcher` (one per render, so its log is that render's)."""
    global _fetcher_class
    if _fetcher_class is None:
        _fetcher_class = make_fetcher_class()
    return _fetcher_class(root)


# --- the renderer ------------------------------------------------------------------------


def renderer_version() -> str:
    """A hash of what shapes the PDF besides the agreement: WeasyPrint, templates, CSS, fonts."""
    import weasyprint

    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}\0".encode())
    files = sorted((templates_dir() / "agreement").glob("*.html"))
    files += [STYLESHEET] + [STATIC_DIR / "fonts" / name for name in FONTS]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes
    pages: int
    served: tuple[str, ...]
    refused: tuple[str, ...]


class PdfRenderer:
    """WeasyPrint set up once per process: parsed stylesheet, fonts, fetcher class."""

    def __init__(self, static_dir: Path = STATIC_DIR):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.static_dir = Path(static_dir).resolve()
        self.font_config = FontConfiguration()
        setup = fetcher(self.static_dir)
        self.stylesheet = CSS(
            filename=str(self.static_dir / "agreement.css"),
            url_fetcher=setup,
            font_config=self.font_config,
        )
        self.setup_fetches = tuple(setup.served)
        self.version = renderer_version()
        self.renders = 0
        self._lock = threading.Lock()

    def render(self, html: str, *, identifier: bytes | None = None) -> RenderResult:
        """Render an HTML string (of our templates) to PDF bytes."""
        from weasyprint import HTML

        fetch = fetcher(self.static_dir)
        with self._lock:
            document = HTML(
                string=html, base_url=self.static_dir.as_uri() + "/", url_fetcher=fetch
            ).render(
                font_config=self.font_config,
                stylesheets=[self.stylesheet],
                pdf_variant="pdf/ua-1",
                pdf_tags=True,
            )
            pdf = document.write_pdf(
                pdf_variant="pdf/ua-1",
                pdf_tags=True,
                pdf_identifier=identifier,
            )
            self.renders += 1
        return RenderResult(pdf, len(document.pages), tuple(fetch.served), tuple(fetch.refused))


_renderer: PdfRenderer | None = None
_renderer_lock = threading.Lock()


@atexit.register
def _drop_renderer() -> None:
    """Free the renderer while modules still exist (its fonts' temporary folder goes)."""
    global _renderer
    _renderer = None


def get_renderer() -> PdfRenderer:
    """The process's renderer, made on first use."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = PdfRenderer()
        return _renderer


# --- the cache ---------------------------------------------------------------------------


class PdfCache(Protocol):
    """Where rendered PDFs are kept. Keys are hex strings (64 characters)."""

    def get(self, key: str) -> bytes | None:
        """The PDF stored under ``key``, or None."""

    def put(self, key: str, pdf: bytes) -> None:
        """Store a PDF (may evict others)."""


class MemoryCache:
    """An in-process LRU cache, bounded by entries and total bytes. Thread-safe."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 64 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            pdf = self._items.get(key)
            if pdf is not None:
                self._items.move_to_end(key)
            return pdf

    def put(self, key: str, pdf: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            if len(pdf) > self.max_bytes:
                return
            self._items[key] = pdf
            self._size += len(pdf)
            while len(self._items) > self.max_entries or self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class NoCache:
    """A cache that keeps nothing (every call renders)."""

    def get(self, key: str) -> bytes | None:
        return None

    def put(self, key: str, pdf: bytes) -> None:
        return None


DEFAULT_CACHE = MemoryCache()
"""The per-process cache used when ``render_agreement`` is given none."""


# --- the service -------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedAgreement:
    pdf: bytes
    sha256: str  # of the agreement's canonical content (shown in the PDF's footer)
    document_id: str  # "AGR-..."
    filename: str  # "Agreement - Harbour Freight Logistics - 2026-11-27.pdf"
    paper: str
    cached: bool  # True when served from the cache without rendering
    refused: tuple[str, ...] = ()  # URLs the fetcher refused during this render


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def filename_for(agreement: Agreement) -> str:
    """``Agreement - <company> - <date>.pdf``, safe as a file name on any system."""
    company = unicodedata.normalize("NFKC", agreement.company)
    company = _UNSAFE.sub(" ", company)
    company = " ".join(company.split()).strip(". ") or "Client"
    return f"Agreement - {_short(company, 80)} - {agreement.date}.pdf"


def cache_key(agreement: Agreement, paper: str, renderer: PdfRenderer) -> str:
    return hashlib.sha256(f"{agreement.sha256}\0{paper}\0{renderer.version}".encode()).hexdigest()


def render_pdf(
    agreement: Agreement, *, paper: str = "a4", cache: PdfCache | None = None
) -> RenderedAgreement:
    """The PDF of a composed agreement, from the cache when it was rendered before."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    cache = DEFAULT_CACHE if cache is None else cache
    renderer = get_renderer()
    key = cache_key(agreement, paper, renderer)
    name = filename_for(agreement)
    stored = cache.get(key)
    if stored is not None:
        return RenderedAgreement(
            stored, agreement.sha256, agreement.document_id, name, paper, cached=True
        )
    html = html_for(agreement, static_base=None, paper=paper, trace="appendix")
    result = renderer.render(html, identifier=agreement.sha256[:32].encode())
    cache.put(key, result.pdf)
    return RenderedAgreement(
        result.pdf,
        agreement.sha256,
        agreement.document_id,
        name,
        paper,
        cached=False,
        refused=result.refused,
    )


def render_agreement(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    paper: str = "a4",
    agency: str = DEFAULT_AGENCY,
    date: dt.date | str | None = None,
    cache: PdfCache | None = None,
) -> RenderedAgreement:
    """Compose and render the agreement PDF (raises AnswersInvalid for invalid answers).

    ``cache=None`` uses the per-process :data:`DEFAULT_CACHE`; pass :class:`NoCache` to
    always render, or a database-backed object with the same two methods.
    """
    agreement = _compose(answers, assessment, agency, date)
    return render_pdf(agreement, paper=paper, cache=cache)
