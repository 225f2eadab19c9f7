"""Renders with a time and a memory cap: WeasyPrint runs in a render worker process.

:class:`WorkerRenderer` (one per process via :func:`get_renderer`) keeps the process's
:class:`~onboarding.rendering.engine.PdfRenderer` in a long-lived worker, started on the
first render as a fresh interpreter (no fork of an app process with threads and
database connections), so the stylesheet and fonts are parsed once per worker and
WeasyPrint is never imported in the app process. The worker's address space is capped
with ``RLIMIT_AS`` (``memory_mb``, setting ``PDF_RENDER_MEMORY_MB``, default 1024; 0
turns the cap off); the app process waits ``timeout`` seconds (``PDF_RENDER_TIMEOUT``,
default 20) for each render, then kills the worker; a worker is replaced after
``max_renders`` renders (``PDF_RENDER_MAX_RENDERS``). Either failure raises a
:class:`RenderError` (:class:`RenderTimeout`, :class:`RenderFailed`), the app process is
unharmed and the next render starts a fresh worker. The settings come from the app's
config through :func:`configure` (never from the environment).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Protocol

from onboarding.rendering.engine import STATIC_DIR, PdfRenderer, RenderResult, renderer_version

log = logging.getLogger(__name__)

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


def _caps(timeout: float, memory_mb: float, max_renders: float) -> tuple[float, int, int]:
    """The caps as ``(timeout, memory_mb, max_renders)``, checked; a ValueError names the
    setting a value is out of range for."""
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        raise ValueError(f"PDF_RENDER_TIMEOUT must be a number (got {timeout!r})") from None
    try:
        memory_mb = float(memory_mb)
    except (TypeError, ValueError):
        raise ValueError(f"PDF_RENDER_MEMORY_MB must be a number (got {memory_mb!r})") from None
    try:
        max_renders = float(max_renders)
    except (TypeError, ValueError):
        raise ValueError(f"PDF_RENDER_MAX_RENDERS must be a number (got {max_renders!r})") from None
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"the render time cap (PDF_RENDER_TIMEOUT) must be > 0 s: {timeout}")
    if not (math.isfinite(memory_mb) and memory_mb >= 0):
        raise ValueError(f"the memory cap (PDF_RENDER_MEMORY_MB) must be >= 0: {memory_mb}")
    if not (math.isfinite(max_renders) and max_renders >= 0):
        raise ValueError(f"PDF_RENDER_MAX_RENDERS must be >= 0: {max_renders:g}")
    return timeout, int(memory_mb), int(max_renders)


_configured: tuple[float, int, int] = (RENDER_TIMEOUT, RENDER_MEMORY_MB, RENDER_MAX_RENDERS)
"""The caps of renderers made without their own: ``(timeout, memory_mb, max_renders)``."""


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
from onboarding.rendering.isolation import _serve
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
    # No cyclic collection during the render: WeasyPrint allocates boxes by the hundred
    # thousand, and each automatic collection scans them only to find them alive (about
    # 6 % of a render). Reference counting still frees as it goes; the cycles left go in
    # the collection the loop makes once the reply is sent; the memory cap still applies.
    gc.disable()
    try:
        result = renderer.render(html, identifier=identifier)
    except MemoryError:
        return ("memory", f"out of memory under the {memory_mb} MiB cap")
    except Exception as exc:  # noqa: BLE001 - reported to the app process
        return ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        gc.enable()
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
    new worker. ``None`` for ``timeout``, ``memory_mb`` or ``max_renders`` takes the
    value given to :func:`configure` (by default :data:`RENDER_TIMEOUT`,
    :data:`RENDER_MEMORY_MB`, :data:`RENDER_MAX_RENDERS`).

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
        default_timeout, default_memory_mb, default_max_renders = _configured
        self.timeout, self.memory_mb, self.max_renders = _caps(
            default_timeout if timeout is None else timeout,
            default_memory_mb if memory_mb is None else memory_mb,
            default_max_renders if max_renders is None else max_renders,
        )
        self._served = 0  # renders by the current worker
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

    def start(self) -> None:
        """Start the worker now unless one is running (a server worker's or a command's
        warm-up: WeasyPrint imported, the stylesheet and fonts parsed before the render
        that needs them); raise RenderFailed when it cannot start."""
        with self._lock:
            self._ensure_worker()

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


class LocalRenderer:
    """A :class:`PdfRenderer` in this process, for a one-shot command (``onboarding
    agreement``, ``onboarding proposal``): no worker to start, so WeasyPrint is imported
    once, by the process that renders, not by a second interpreter as well. No time or
    memory cap: the person running the command can stop it; a server renders in its
    worker. The same PDF bytes as the worker's (the same renderer), and failures raised
    as the worker's are (:class:`RenderFailed`, with the same messages).
    """

    def __init__(self, static_dir: Path = STATIC_DIR):
        self.static_dir = Path(static_dir).resolve()
        self.version = renderer_version()
        self.renders = 0
        self._renderer: PdfRenderer | None = None

    def render(self, html: str, *, identifier: bytes | None = None) -> RenderResult:
        """Render here; the cyclic collector paused meanwhile, as in the worker (the
        render's boxes are alive until it ends: collecting finds nothing)."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            if self._renderer is None:
                self._renderer = PdfRenderer(self.static_dir)
            result = self._renderer.render(html, identifier=identifier)
        except MemoryError:
            raise RenderFailed("the PDF render ran out of memory", "memory") from None
        except Exception as exc:
            message = f"the PDF render failed: {type(exc).__name__}: {exc}"
            raise RenderFailed(message, "error", traceback.format_exc()) from exc
        finally:
            if enabled:
                gc.enable()
        self.renders += 1
        return result


_workers: weakref.WeakSet[WorkerRenderer] = weakref.WeakSet()
_renderer: WorkerRenderer | None = None
_renderer_lock = threading.Lock()


def configure(
    *,
    timeout: float = RENDER_TIMEOUT,
    memory_mb: float = RENDER_MEMORY_MB,
    max_renders: float = RENDER_MAX_RENDERS,
) -> None:
    """Set the caps of the process's renders: ``PDF_RENDER_TIMEOUT``,
    ``PDF_RENDER_MEMORY_MB`` and ``PDF_RENDER_MAX_RENDERS`` from the app's config.

    ``create_app`` calls it, and so does the command line before it renders. The caps
    apply to :func:`get_renderer`'s renderer from its next render (a new memory cap
    from its next worker: a running worker with another cap is stopped) and to every
    :class:`WorkerRenderer` made without caps of its own. Raises ValueError, naming the
    setting, for a value out of range. The renderer is one per process, so the last
    call wins when several apps share a process.
    """
    global _configured
    caps = _caps(timeout, memory_mb, max_renders)
    with _renderer_lock:
        _configured = caps
        renderer = _renderer
    if renderer is not None:
        renderer.timeout, memory_mb, renderer.max_renders = caps
        if renderer.memory_mb != memory_mb:
            renderer.memory_mb = memory_mb
            renderer.close()  # the next render starts a worker under the new cap


def get_renderer() -> WorkerRenderer:
    """The process's renderer (its worker starts on the first render), with the caps
    given to :func:`configure`."""
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
