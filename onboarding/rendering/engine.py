"""WeasyPrint, set up once per process, fetching only the package's own assets.

The only module that imports WeasyPrint (lazily: the app process never does; the render
worker of :mod:`onboarding.rendering.isolation` does). :class:`PdfRenderer`:

- parses ``onboarding/static/agreement.css`` once, with one ``FontConfiguration`` holding
  the packaged Inter fonts, and reuses both for every render (renders are serialised by
  a lock: WeasyPrint does not promise thread safety);
- fetches through :class:`StaticAssetFetcher`, which serves only files under
  ``onboarding/static`` and refuses every other URL (``file:`` elsewhere, ``http(s):``,
  ``data:``...), recording what it served and refused;
- writes a tagged PDF/UA-1 with metadata from the HTML head and a file identifier
  derived from the content hash, so nothing in the file depends on the clock;
- never uses ``presentational_hints``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from onboarding.domain.resources import PACKAGE
from onboarding.rendering.documents import templates_dir

STATIC_DIR = PACKAGE / "static"
STYLESHEET = STATIC_DIR / "agreement.css"
FONTS = ("Inter-Regular.otf", "Inter-Italic.otf", "Inter-SemiBold.otf", "Inter-Bold.otf")


class RefusedURL(ValueError):
    """A URL the agreement renderer does not fetch."""


def import_weasyprint() -> Any:
    """Import WeasyPrint (once per process) without its search for libraries by
    guessed names.

    WeasyPrint opens Pango, HarfBuzz and fontconfig by trying several names each
    (``libpango-1.0-0``, ``pango-1.0-0``, ``pango-1.0``, ``libpango-1.0.so.0``...). For
    each name the loader cannot open, cffi asks ``ctypes.util.find_library``, which runs
    ``ldconfig -p``, ``gcc`` and ``ld`` in subprocesses: some 20 of them, about 0.3 s
    of a cold import. On Linux the ``.so`` names open directly, so the import first
    tries without the search; should a library then not load, the import is made again
    the usual way, with the search (and WeasyPrint's own message when that fails too).
    """
    import sys

    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = _not_found
    try:
        import weasyprint
    except OSError:
        for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
            del sys.modules[name]
        ctypes.util.find_library = search
        import weasyprint
    finally:
        ctypes.util.find_library = search
    return weasyprint


def _not_found(name: str) -> None:
    return None


def make_fetcher_class():
    """Build :class:`StaticAssetFetcher` (WeasyPrint is imported only when needed)."""
    import_weasyprint()
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
    files += [STYLESHEET, Path(__file__)] + [STATIC_DIR / "fonts" / name for name in FONTS]
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
        import_weasyprint()
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

    def layout(self, html: str, fetch: Any = None) -> Any:
        """The laid-out ``weasyprint.Document`` of an HTML string (its pages and boxes,
        as :meth:`render` writes them; the layout tests measure these)."""
        from weasyprint import HTML

        fetch = fetch if fetch is not None else fetcher(self.static_dir)
        return HTML(string=html, base_url=self.static_dir.as_uri() + "/", url_fetcher=fetch).render(
            font_config=self.font_config,
            stylesheets=[self.stylesheet],
            pdf_variant="pdf/ua-1",
            pdf_tags=True,
        )

    def render(self, html: str, *, identifier: bytes | None = None) -> RenderResult:
        """Render an HTML string (of our templates) to PDF bytes."""
        fetch = fetcher(self.static_dir)
        with self._lock:
            document = self.layout(html, fetch)
            pdf = document.write_pdf(
                pdf_variant="pdf/ua-1",
                pdf_tags=True,
                pdf_identifier=identifier,
                finisher=table_header_scopes,
            )
            self.renders += 1
        return RenderResult(pdf, len(document.pages), tuple(fetch.served), tuple(fetch.refused))


def table_header_scopes(document: Any, pdf: Any) -> None:
    """Give every table header cell of the structure tree its ``/Scope`` (PDF/UA asks
    for it; WeasyPrint links cells to their headers but leaves the scope out): a header
    in a head row (``THead``) heads its column, one in a body row heads its row, as the
    templates' ``scope`` attributes say (``<thead>``: ``col``, ``<tbody>``: ``row``)."""
    import pydyf

    by_reference = {obj.reference: obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)
                    and obj.get("Type") == "/StructElem"}  # fmt: skip
    for element in by_reference.values():
        if element.get("S") != "/TH":
            continue
        row = by_reference.get(element.get("P"))
        group = by_reference.get(row.get("P")) if row is not None else None
        in_head = group is not None and group.get("S") == "/THead"
        attributes = element.get("A")
        if not isinstance(attributes, pydyf.Dictionary):
            attributes = element["A"] = pydyf.Dictionary({"O": "/Table"})
        attributes["Scope"] = "/Column" if in_head else "/Row"
