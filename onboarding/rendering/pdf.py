"""The agreement as a PDF: compose, render (capped, in a worker), cache by content.

For the services (no Flask in here)::

    html = agreement_html(answers, assessment, static_base="/static/", date=submitted_on)
    result = render_agreement(answers, assessment, paper="a4", date=submitted_on)
    result.pdf, result.filename, result.document_id, result.sha256

Both take ``agency=`` (the agency's name) and ``date=`` (the document date, a ``date``
or ``YYYY-MM-DD``; today when omitted). Pass a stored date (the submission date, or the
day the agreement was issued): the date is part of the agreement, so the same answers,
playbooks, agency and date always give the same document id, the same SHA-256 and the
same PDF bytes.

The parts: :mod:`.documents` (HTML from the templates), :mod:`.figures` (SVG),
:mod:`.engine` (WeasyPrint and its fetcher), :mod:`.isolation` (the capped worker).
This module ties them together with a cache, and re-exports their public names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement
from onboarding.domain.redline import Changes
from onboarding.rendering.documents import (  # noqa: F401 - the public face of rendering
    PAPER,
    TRACE_MODES,
    agreement_html,
    certificate_html,
    compose_agreement,
    environment,
    filename_for,
    html_for,
    templates_dir,
)
from onboarding.rendering.engine import (  # noqa: F401
    FONTS,
    STATIC_DIR,
    STYLESHEET,
    PdfRenderer,
    RefusedURL,
    RenderResult,
    fetcher,
    make_fetcher_class,
    renderer_version,
)
from onboarding.rendering.figures import PHASE_COLOURS, roadmap_svg  # noqa: F401
from onboarding.rendering.isolation import (  # noqa: F401
    MAX_PDF_BYTES,
    RENDER_MAX_RENDERS,
    RENDER_MEMORY_MB,
    RENDER_TIMEOUT,
    Renderer,
    RenderError,
    RenderFailed,
    RenderTimeout,
    WorkerRenderer,
    get_renderer,
)


def __getattr__(name: str) -> Any:
    """``StaticAssetFetcher``, built on first access (imports WeasyPrint)."""
    if name == "StaticAssetFetcher":
        from onboarding.rendering import engine

        return engine.StaticAssetFetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PdfCache(Protocol):
    """Where rendered PDFs are kept. Keys are hex strings (64 characters).

    A cache several processes share may also keep them from rendering the same PDF at
    once, with ``claim(key) -> bool`` (False while another process holds it),
    ``wait(key) -> bytes | None`` (the claimant's PDF, or None when its claim lapsed)
    and ``release(key)``: :func:`render_pdf` then renders only under a claim
    (:class:`onboarding.services.agreement.compose.SharedDatabaseCache` is one)."""

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


@dataclass(frozen=True)
class RenderedAgreement:
    pdf: bytes
    sha256: str  # of the agreement's canonical content (shown in the PDF's footer)
    document_id: str  # "AGR-..."
    filename: str  # "Agreement - Harbour Freight Logistics - 2026-11-27.pdf"
    paper: str
    cached: bool  # True when served from the cache without rendering
    refused: tuple[str, ...] = ()  # URLs the fetcher refused during this render


def cache_key(
    agreement: Agreement, paper: str, renderer: Renderer, changes: Changes | None = None
) -> str:
    key = f"{agreement.sha256}\0{paper}\0{renderer.version}"
    if changes is not None:
        key += f"\0changes\0{changes.digest()}"
    return hashlib.sha256(key.encode()).hexdigest()


def render_pdf(
    agreement: Agreement,
    *,
    paper: str = "a4",
    cache: PdfCache | None = None,
    changes: Changes | None = None,
    renderer: Renderer | None = None,
) -> RenderedAgreement:
    """The PDF of a composed agreement, from the cache when it was rendered before;
    ``changes``: with the page "Changes since version n" (a version that follows another);
    ``renderer``: another than the process's render worker (a command renders in its own
    process: :class:`~onboarding.rendering.isolation.LocalRenderer`)."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    cache = DEFAULT_CACHE if cache is None else cache
    renderer = get_renderer() if renderer is None else renderer
    key = cache_key(agreement, paper, renderer, changes)
    name = filename_for(agreement)
    stored = cache.get(key)
    if stored is not None:
        return RenderedAgreement(
            stored, agreement.sha256, agreement.document_id, name, paper, cached=True
        )
    claim = getattr(cache, "claim", None)
    claimed = False
    if claim is not None:  # a shared cache: one process renders, the others wait for it
        claimed = claim(key)
        if not claimed:
            stored = cache.wait(key)  # type: ignore[attr-defined]
            if stored is not None:
                return RenderedAgreement(
                    stored, agreement.sha256, agreement.document_id, name, paper, cached=True
                )
            # Released without a PDF (a failed render), or still held after the wait:
            # render here rather than wait on (twice at worst, never stuck).
            claimed = claim(key)
    try:
        stored = cache.get(key)  # rendered meanwhile, just before our claim
        if stored is not None:
            return RenderedAgreement(
                stored, agreement.sha256, agreement.document_id, name, paper, cached=True
            )
        html = html_for(agreement, static_base=None, paper=paper, trace="appendix", changes=changes)
        result = renderer.render(html, identifier=agreement.sha256[:32].encode())
        cache.put(key, result.pdf)
    finally:
        if claimed:
            cache.release(key)  # type: ignore[attr-defined]
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
    agreement = compose_agreement(answers, assessment, agency, date)
    return render_pdf(agreement, paper=paper, cache=cache)
