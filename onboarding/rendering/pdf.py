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

The PDF renderer (:class:`PdfRenderer`):

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

Renders run with a time and a memory cap (:class:`WorkerRenderer`, one per process via
:func:`get_renderer`): the process's ``PdfRenderer`` lives in a long-lived render worker
process, started on the first render as a fresh interpreter (no fork of an app process
with threads and database connections), so the stylesheet and fonts are still parsed
once per worker, and WeasyPrint is never imported in the app process. The worker's
address space is capped with ``RLIMIT_AS`` (``PDF_RENDER_MEMORY_MB``, default 1024; 0
turns the cap off); the app process waits ``PDF_RENDER_TIMEOUT`` seconds (default 20)
for each render, then kills the worker. Either way the render raises a
:class:`RenderError` (:class:`RenderTimeout`, :class:`RenderFailed`), the app process is
unharmed and the next render starts a fresh worker. A render of these documents takes a
few hundred milliseconds; the worker peaks at about 100 MB resident and 300-340 MB of
address space (Pango's threads reserve address space they barely use).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import gc
import hashlib
import logging
import math
import mimetypes
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import jinja2
from markupsafe import Markup, escape

import onboarding
from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement, Roadmap, compose
from onboarding.domain.resources import project_dir

PACKAGE = Path(onboarding.__file__).resolve().parent
STATIC_DIR = PACKAGE / "static"
STYLESHEET = STATIC_DIR / "agreement.css"
FONTS = ("Inter-Regular.otf", "Inter-Italic.otf", "Inter-SemiBold.otf", "Inter-Bold.otf")

log = logging.getLogger(__name__)

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
    """``StaticAssetFetcher``, built on first access (imports WeasyPrint)."""
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


def _weasyprint_version() -> str:
    """WeasyPrint's version, from its metadata (the app process need not import it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:  # pragma: no cover - a source checkout on sys.path
        import weasyprint

        return weasyprint.__version__


def renderer_version() -> str:
    """A hash of what shapes the PDF besides the agreement: WeasyPrint, templates, CSS, fonts."""
    digest = hashlib.sha256(f"weasyprint {_weasyprint_version()}\0".encode())
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


# --- the render worker: a time and a memory cap -----------------------------------------

RENDER_TIMEOUT = 20.0
"""Seconds the app process waits for a render (``PDF_RENDER_TIMEOUT``)."""

RENDER_MEMORY_MB = 1024
"""The render worker's address-space cap in MiB (``PDF_RENDER_MEMORY_MB``; 0: no cap)."""

RENDER_MAX_RENDERS = 500
"""Renders a worker serves before it is replaced (``PDF_RENDER_MAX_RENDERS``; 0: no limit),
so the memory a very large render made it keep is given back."""

MAX_PDF_BYTES = 64 * 2**20
"""The largest PDF a render may return (ours are about 150 KB)."""


class RenderError(RuntimeError):
    """A PDF could not be rendered within its caps; the app process is unharmed."""


class RenderTimeout(RenderError):
    """The render took longer than the time cap; its worker was killed."""


class RenderFailed(RenderError):
    """The render worker failed. ``reason`` says how:

    - ``"memory"``: out of memory under the cap (the worker reported a ``MemoryError``,
      while rendering or, with a cap too small for its set-up, while starting);
    - ``"died"``: the worker died during the render: killed, or crashed in C code, which
      is how Pango and GLib fail when the cap refuses them memory (``SIGSEGV``,
      ``SIGTRAP``);
    - ``"start"``: the worker could not start (or died, or took over ``start_timeout``);
    - ``"too-large"``: the PDF was larger than the renderer's ``max_pdf_bytes``;
    - ``"error"``: the render raised an exception (its traceback is in ``detail``).
    """

    def __init__(self, message: str, reason: str, detail: str = ""):
        super().__init__(message)
        self.reason = reason
        self.detail = detail


class Renderer(Protocol):
    """What :func:`get_renderer` returns (and :class:`PdfRenderer` also is)."""

    version: str
    renders: int

    def render(self, html: str, *, identifier: bytes | None = None) -> RenderResult: ...


def _setting(name: str, default: float) -> float:
    """A number from the environment (``default`` when unset or empty)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number (got {raw!r})") from None


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


_WORKER_BOOT = """\
import sys
from multiprocessing.connection import Connection
conn = Connection(int(sys.argv[1]))
sys.path[:], args = conn.recv()
from onboarding.rendering.pdf import _serve
_serve(conn, *args)
"""
"""The render worker's program: the app's ``sys.path``, then :func:`_serve`."""


def _serve(conn: Connection, static_dir: str, memory_mb: int, tmp: str, max_pdf_bytes: int) -> None:
    """The render worker's loop: one :class:`PdfRenderer`, a render per request.

    It runs in the worker process, started by :class:`WorkerRenderer`. The first message
    is ``("ready", facts)`` or a failure. Requests are ``(html, identifier, backstop
    seconds)``, or ``None`` to stop. Replies are ``("ok", RenderResult)``, ``("memory",
    message)`` (then the worker exits: after a failed allocation its state is not to be
    trusted), ``("too-large", message)`` or ``("error", message, traceback)``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the app; it stops us
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the backstop timer kills the process
    tempfile.tempdir = tmp  # WeasyPrint's font copies, removed by the app if we are killed
    renderer = None
    try:
        if memory_mb:
            import resource

            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = memory_mb * 2**20
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        renderer = PdfRenderer(Path(static_dir))
        hello: tuple = ("ready", {"setup_fetches": renderer.setup_fetches})
    except MemoryError:
        hello = ("memory", f"out of memory while starting, under a {memory_mb} MiB cap")
    except Exception as exc:  # noqa: BLE001 - reported to the app process
        hello = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    gc.collect()
    gc.freeze()  # the set-up's objects stay: later collections need not scan them
    conn.send(hello)
    while renderer is not None:
        try:
            request = conn.recv()
        except EOFError:  # the app process closed the pipe (or died)
            break
        except MemoryError:
            request = False
        if request is None:  # stop
            break
        if request is False:
            reply: tuple = ("memory", "out of memory reading the request")
        else:
            reply = _render_one(renderer, request, memory_mb, max_pdf_bytes)
            del request
        try:
            conn.send(reply)
        except (MemoryError, OSError):
            break
        if reply[0] == "memory":
            break
        del reply
        gc.collect()  # the render's garbage goes now, while nobody waits, not mid-render
    renderer = None  # its FontConfiguration removes its font folder
    gc.collect()
    conn.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _render_one(renderer: PdfRenderer, request: tuple, memory_mb: int, max_pdf_bytes: int):
    """One render in the worker, as a reply (the document is freed when this returns)."""
    html, identifier, backstop = request
    # Should the app process be gone or stuck, the kernel ends a runaway render.
    signal.setitimer(signal.ITIMER_REAL, backstop)
    try:
        result = renderer.render(html, identifier=identifier)
    except MemoryError:
        return ("memory", f"out of memory under the {memory_mb} MiB cap")
    except Exception as exc:  # noqa: BLE001 - reported to the app process
        return ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if len(result.pdf) > max_pdf_bytes:
        size = f"{len(result.pdf) / 2**20:.1f} MiB"
        return ("too-large", f"the PDF is {size}, over the limit of {max_pdf_bytes} bytes")
    return ("ok", result)


class WorkerRenderer:
    """The app's renderer: a :class:`PdfRenderer` in a render worker process, with caps.

    ``render(html, identifier=None)`` sends the HTML to the worker and waits at most
    ``timeout`` seconds for the :class:`RenderResult`; the worker's address space is
    capped at ``memory_mb`` MiB (``RLIMIT_AS``; 0: no cap). When the time is up the
    worker is killed and :class:`RenderTimeout` raised; when the worker runs out of
    memory, dies or the render raises, :class:`RenderFailed`. A later render starts a
    new worker. ``None`` for ``timeout`` or ``memory_mb`` reads ``PDF_RENDER_TIMEOUT``
    and ``PDF_RENDER_MEMORY_MB`` (defaults :data:`RENDER_TIMEOUT`, :data:`RENDER_MEMORY_MB`).

    The worker is ``sys.executable -c`` :data:`_WORKER_BOOT` (a fresh interpreter: nothing
    inherited from an app process with threads and open connections, and unlike
    multiprocessing's ``spawn`` it does not re-run the app's ``__main__``), talking over
    a socket pair with multiprocessing's ``Connection``. It starts on the first render,
    or the first look at ``setup_fetches``, and serves every render after that: its
    stylesheet and fonts are parsed once. Renders are serialised by a lock (one worker,
    one pipe). ``renders`` counts the renders done, ``starts`` the workers started;
    ``pid`` is the current worker's (None when there is none). :meth:`close` stops the
    worker; it is called at interpreter exit (and a worker whose app process is gone
    exits at the end of its pipe). A forked child (a gunicorn worker forked from a
    master that rendered) forgets its parent's worker and starts its own.
    """

    start_timeout = 60.0
    """Seconds a new worker may take to import WeasyPrint and parse the stylesheet."""

    stop_timeout = 5.0
    """Seconds a worker asked to stop may take before it is killed."""

    backstop = 5.0
    """The worker's own timer ends a render this long after the time cap (should the app
    process be gone or stuck): the kernel's default action for ``SIGALRM`` ends it."""

    def __init__(
        self,
        *,
        timeout: float | None = None,
        memory_mb: float | None = None,
        static_dir: Path = STATIC_DIR,
        max_pdf_bytes: int = MAX_PDF_BYTES,
        max_renders: int | None = None,
    ):
        if max_renders is None:
            max_renders = int(_setting("PDF_RENDER_MAX_RENDERS", RENDER_MAX_RENDERS))
        if max_renders < 0:
            raise ValueError(f"PDF_RENDER_MAX_RENDERS must be >= 0: {max_renders}")
        self.max_renders = max_renders
        self._served = 0  # renders by the current worker
        if timeout is None:
            timeout = _setting("PDF_RENDER_TIMEOUT", RENDER_TIMEOUT)
        if memory_mb is None:
            memory_mb = _setting("PDF_RENDER_MEMORY_MB", RENDER_MEMORY_MB)
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"the render time cap (PDF_RENDER_TIMEOUT) must be > 0 s: {timeout}")
        if not (math.isfinite(memory_mb) and memory_mb >= 0):
            raise ValueError(f"the memory cap (PDF_RENDER_MEMORY_MB) must be >= 0: {memory_mb}")
        self.timeout = float(timeout)
        self.memory_mb = int(memory_mb)
        self.static_dir = Path(static_dir).resolve()
        self.max_pdf_bytes = max_pdf_bytes
        self.version = renderer_version()
        self.renders = 0
        self.starts = 0
        self._setup_fetches: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._tmp: str | None = None
        _workers.add(self)

    @property
    def pid(self) -> int | None:
        """The current worker's process id (None before the first render, after close)."""
        process = self._process
        return None if process is None else process.pid

    @property
    def setup_fetches(self) -> tuple[str, ...]:
        """What the worker fetched while parsing the stylesheet (the fonts)."""
        if self._setup_fetches is None:
            with self._lock:
                self._ensure_worker()
        assert self._setup_fetches is not None
        return self._setup_fetches

    def render(self, html: str, *, identifier: bytes | None = None) -> RenderResult:
        """Render in the worker, within the time and memory caps (else :class:`RenderError`)."""
        with self._lock:
            self._ensure_worker()
            conn = self._conn
            deadline = time.monotonic() + self.timeout
            limit = self.max_pdf_bytes + 2 * len(html or "") + 2**20  # the PDF, URLs, pickling
            try:
                conn.send((html, identifier, self.timeout + self.backstop))
                answered = conn.poll(max(0.0, deadline - time.monotonic()))
                data = conn.recv_bytes(limit) if answered else None
            except (EOFError, OSError) as exc:
                too_large = "bad message length" in str(exc)
                code = self._stop(kill=True)
                if too_large:
                    raise RenderFailed(
                        "the PDF render's answer was too large", "too-large"
                    ) from exc
                log.warning("PDF render worker died during a render (%s)", _exit_text(code))
                raise RenderFailed(
                    f"the PDF render worker died during the render ({_exit_text(code)})", "died"
                ) from exc
            except BaseException:  # interrupted mid-exchange: the worker's state is unknown
                self._stop(kill=True)
                raise
            if data is None:
                pid = self.pid
                self._stop(kill=True)
                log.warning("PDF render over %g s: render worker %s killed", self.timeout, pid)
                raise RenderTimeout(
                    f"the PDF render took longer than {self.timeout:g} s and was stopped"
                )
            reply = pickle.loads(data)  # noqa: S301 - from our own worker
            del data
            kind = reply[0]
            if kind == "ok":
                self.renders += 1
                self._served += 1
                if self.max_renders and self._served >= self.max_renders:
                    self._stop()  # the next render starts a fresh worker
                return reply[1]
            if kind == "memory":
                self._stop()  # the worker exits after reporting it
                log.warning("PDF render out of memory (cap %s MiB)", self.memory_mb)
                raise RenderFailed(f"the PDF render ran out of memory: {reply[1]}", "memory")
            if kind == "too-large":
                raise RenderFailed(f"the PDF render failed: {reply[1]}", "too-large")
            log.error("PDF render failed in the render worker:\n%s", reply[2])
            raise RenderFailed(f"the PDF render failed: {reply[1]}", "error", reply[2])

    def close(self) -> None:
        """Stop the worker (politely, then by force); a later render starts a new one."""
        with self._lock:
            self._stop()

    def _ensure_worker(self) -> None:
        """Start a worker unless one is running (the caller holds the lock)."""
        process = self._process
        if process is not None:
            if process.poll() is None:
                return
            code = self._stop()  # died between renders (say the kernel's OOM killer)
            log.warning("PDF render worker had died (%s); starting another", _exit_text(code))
        tmp = tempfile.mkdtemp(prefix="onboarding-pdf-")
        ours, theirs = Pipe()
        try:
            process = subprocess.Popen(  # noqa: S603 - our interpreter, our fixed code
                [sys.executable, "-c", _WORKER_BOOT, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        except BaseException as exc:
            ours.close()
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise RenderFailed(
                    f"the PDF render worker could not start: {exc}", "start"
                ) from exc
            raise
        finally:
            theirs.close()
        self._process, self._conn, self._tmp = process, ours, tmp
        self.starts += 1
        self._served = 0
        try:
            ours.send((sys.path, (str(self.static_dir), self.memory_mb, tmp, self.max_pdf_bytes)))
            if not ours.poll(self.start_timeout):
                self._stop(kill=True)
                raise RenderFailed(
                    f"the PDF render worker did not start within {self.start_timeout:g} s", "start"
                )
            hello = ours.recv()
        except (EOFError, OSError) as exc:
            code = self._stop(kill=True)
            raise RenderFailed(
                f"the PDF render worker died while starting ({_exit_text(code)})", "start"
            ) from exc
        except BaseException:
            self._stop(kill=True)
            raise
        if hello[0] == "ready":
            self._setup_fetches = tuple(hello[1]["setup_fetches"])
            return
        self._stop()
        if hello[0] == "memory":
            raise RenderFailed(f"the PDF render worker could not start: {hello[1]}", "memory")
        log.error("PDF render worker could not start:\n%s", hello[2])
        raise RenderFailed(f"the PDF render worker could not start: {hello[1]}", "start", hello[2])

    def _stop(self, *, kill: bool = False) -> int | None:
        """End the worker (ask, wait, kill; or kill at once), reap it, remove its folder.

        Returns its exit code (negative: the signal that ended it). The caller holds the lock.
        """
        process, conn, tmp = self._process, self._conn, self._tmp
        self._process = self._conn = self._tmp = None
        if process is None:
            return None
        try:
            if not kill:
                with contextlib.suppress(OSError):
                    conn.send(None)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(self.stop_timeout)
            if process.poll() is None:
                process.kill()
            return process.wait()
        finally:
            conn.close()
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)

    def _forget(self) -> None:
        """In a forked child: let go of the parent's worker without touching it."""
        process, conn = self._process, self._conn
        self._process = self._conn = self._tmp = None
        self._lock = threading.Lock()
        if conn is not None:
            conn.close()  # the child's copy of the descriptor only
        if process is not None:
            process.returncode = 0  # not ours to wait for (and no "still running" warning)


_workers: weakref.WeakSet[WorkerRenderer] = weakref.WeakSet()
_renderer: WorkerRenderer | None = None
_renderer_lock = threading.Lock()


def get_renderer() -> WorkerRenderer:
    """The process's renderer (its worker starts on the first render)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = WorkerRenderer()
        return _renderer


@atexit.register
def _stop_workers() -> None:
    """Stop the render workers at exit, while modules still exist."""
    global _renderer
    for renderer in list(_workers):
        renderer.close()
    _renderer = None


def _after_fork_in_child() -> None:
    global _renderer_lock
    _renderer_lock = threading.Lock()
    for renderer in list(_workers):
        renderer._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)

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


def cache_key(agreement: Agreement, paper: str, renderer: Renderer) -> str:
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


# --- the signature certificate ------------------------------------------------------------


def certificate_pdf(facts: Mapping[str, str], *, title: str, paper: str = "a4") -> bytes:
    """A one-page certificate of acceptance (the facts as a table), to append to a PDF."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    html = (
        environment()
        .get_template("agreement/certificate.html")
        .render(facts=facts, title=title, paper_css=PAPER[paper])
    )
    return get_renderer().render(html).pdf
