"""The agreement PDF without rendering one: the fetcher's allow-list, the memory cache,
the CLI's refusal of invalid answers, and the render worker's settings and errors.

Real renders (WeasyPrint, the render worker process) are in tests/integration/test_pdf.py."""

import json
import os

import pytest

from onboarding.rendering.isolation import configure
from onboarding.rendering.pdf import (
    RENDER_MAX_RENDERS,
    RENDER_MEMORY_MB,
    RENDER_TIMEOUT,
    STATIC_DIR,
    MemoryCache,
    NoCache,
    RenderError,
    RenderFailed,
    RenderTimeout,
    WorkerRenderer,
    fetcher,
)
from tests.factories import EXAMPLES


def load(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_fetcher_serves_only_static_assets():
    f = fetcher()
    font = (STATIC_DIR / "fonts" / "Inter-Regular.otf").as_uri()
    assert f.path_of(font) == STATIC_DIR / "fonts" / "Inter-Regular.otf"
    assert f.path_of((STATIC_DIR / "agreement.css").as_uri()) is not None
    for url in [
        STATIC_DIR.as_uri() + "/../pdf.py",
        STATIC_DIR.as_uri() + "/fonts/../../cli.py",
        STATIC_DIR.as_uri() + "/intake.js",  # ours, but not a stylesheet, font or image
        "file://evil.example" + STATIC_DIR.as_posix() + "/agreement.css",
        "http://127.0.0.1/agreement.css",
        "data:text/css,body{}",
        "file:///etc/passwd",
    ]:
        assert f.path_of(url) is None, url
        with pytest.raises(ValueError):
            f.fetch(url)
    assert len(f.refused) == 7 and f.served == []
    response = f.fetch(font)
    assert response.read()[:4] == b"OTTO" and f.served == [font]


def test_memory_cache_is_a_bounded_lru():
    cache = MemoryCache(max_entries=2, max_bytes=10)
    cache.put("a", b"1111")
    cache.put("b", b"2222")
    assert cache.get("a") == b"1111"  # a is now the most recent
    cache.put("c", b"3333")
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("d", b"44444444")  # over max_bytes with the others: evicts the oldest
    assert cache.get("d") == b"44444444" and len(cache) == 1
    cache.put("huge", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("huge") is None
    assert NoCache().get("a") is None


def test_cli_invalid_answers_exit_2_with_the_same_errors_as_assess(tmp_path):
    from click.testing import CliRunner

    from onboarding.cli import main

    answers = load("calm-founder")
    answers.update(control_level=9, colour="red")
    text = json.dumps(answers)
    out = tmp_path / "x.pdf"
    result = CliRunner().invoke(main, ["agreement", "-", "-o", str(out)], input=text)
    assessed = CliRunner().invoke(main, ["assess", "-"], input=text)
    assert result.exit_code == assessed.exit_code == 2
    assert "control_level:" in result.output and "colour:" in result.output
    assert result.output == assessed.output
    assert not out.exists()


def test_render_errors_are_runtime_errors():
    assert issubclass(RenderTimeout, RenderError) and issubclass(RenderFailed, RenderError)
    assert issubclass(RenderError, RuntimeError)


def test_caps_come_from_the_config():
    """PDF_RENDER_* reach the renderer through configure() (create_app passes the
    app's config), never from the environment."""
    configure(timeout=7.5, memory_mb=512, max_renders=3)
    try:
        renderer = WorkerRenderer()  # starts no worker
        assert (renderer.timeout, renderer.memory_mb, renderer.pid) == (7.5, 512, None)
        assert renderer.max_renders == 3
    finally:
        configure()
    assert (WorkerRenderer().timeout, WorkerRenderer().memory_mb) == (20.0, 1024)
    assert WorkerRenderer().max_renders == 500
    for name, key, value in [
        ("PDF_RENDER_TIMEOUT", "timeout", "soon"),
        ("PDF_RENDER_TIMEOUT", "timeout", 0),
        ("PDF_RENDER_TIMEOUT", "timeout", float("nan")),
        ("PDF_RENDER_MEMORY_MB", "memory_mb", -1),
        ("PDF_RENDER_MAX_RENDERS", "max_renders", -1),
    ]:
        with pytest.raises(ValueError, match=name):
            configure(**{key: value})
        with pytest.raises(ValueError, match=name):
            WorkerRenderer(**{key: value})
    assert WorkerRenderer().timeout == 20.0  # a refused value changed nothing


def test_the_caps_defaults_are_the_configs():
    """Config's PDF_RENDER_* defaults are the renderer's own."""
    from onboarding.config import Config

    for name, default in [
        ("PDF_RENDER_TIMEOUT", RENDER_TIMEOUT),
        ("PDF_RENDER_MEMORY_MB", RENDER_MEMORY_MB),
        ("PDF_RENDER_MAX_RENDERS", RENDER_MAX_RENDERS),
    ]:
        assert getattr(Config, name) == default or name in os.environ, name
