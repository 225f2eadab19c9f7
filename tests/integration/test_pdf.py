"""The agreement PDF, really rendered: text, pages, metadata, tags, fetching, determinism,
paper, cache, and the render worker's time and memory caps (real WeasyPrint renders and
worker processes; the tests that render nothing are in tests/unit/test_pdf.py)."""

import datetime as dt
import io
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import StreamObject

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.rendering.pdf import (
    STATIC_DIR,
    MemoryCache,
    NoCache,
    PdfRenderer,
    RenderFailed,
    RenderTimeout,
    WorkerRenderer,
    cache_key,
    get_renderer,
    html_for,
    render_agreement,
    render_pdf,
)
from tests.factories import EXAMPLES

NAMES = ["calm-founder", "burned-marketer", "hands-on-director"]
DAY = dt.date(2026, 11, 27)
ATTACK = (
    '<link rel="attachment" href="file:///etc/passwd">'
    '<img src="http://127.0.0.1:9/x.png">'
    "<style>@import url(http://127.0.0.1:9/a.css);</style>"
)


def load(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def words(text):
    return " ".join(text.split())


def stream_bytes(reader):
    """Every stream of the file, decoded (what a reader of the PDF could get at)."""
    out = []
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - free or unused object numbers
            continue
        if isinstance(obj, StreamObject):
            out.append(obj.get_data())
    return b"".join(out)


@pytest.fixture(scope="module", params=NAMES)
def rendered(request):
    answers = load(request.param)
    assessment = assess(answers)
    agreement = compose(answers, assessment, date=DAY)
    result = render_pdf(agreement, cache=NoCache())
    return answers, agreement, result, PdfReader(io.BytesIO(result.pdf))


def test_text_holds_company_and_every_clause_title(rendered):
    answers, agreement, result, reader = rendered
    text = words(" ".join(page.extract_text() for page in reader.pages))
    assert answers["company"] in text and "Brightline Studio" in text
    assert agreement.document_id in text
    for clause in agreement.clauses:
        assert words(clause.title) in text, clause.title
    assert "Signatures" in text and "What you asked for" not in text
    assert "Standard terms" in text


def test_page_count_is_sane(rendered):
    *_, reader = rendered
    assert 3 <= len(reader.pages) <= 15


def test_the_documents_fingerprint_never_stands_on_a_page_of_its_own(rendered):
    answers, agreement, result, reader = rendered
    last = reader.pages[-1].extract_text().splitlines()
    furniture = (agreement.document_id, "SHA-256", "Page ", answers["company"], "dated ")
    content = [line for line in last if line.strip() and not any(f in line for f in furniture)]
    assert content, f"the last page holds only the colophon: {last}"


def test_metadata_tags_language_and_dates(rendered):
    answers, agreement, result, reader = rendered
    info = reader.metadata
    assert info.title == agreement.title and info.author == "Brightline Studio"
    assert agreement.document_id in info.subject
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261127"
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root  # tagged PDF
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()  # PDF/UA-1
    assert reader.trailer["/ID"][0] == agreement.sha256[:32]


def test_fonts_are_the_packaged_inter_embedded_and_subset(rendered):
    *_, reader = rendered
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            described = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = described["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
    assert fonts and all("Inter" in name for name in fonts), fonts
    assert all(re.match(r"^/[A-Z]{6}\+", name) for name in fonts), fonts  # subsets


def test_two_renders_of_an_agreement_with_terms_are_the_same_bytes():
    """Determinism for the agreement as sent (with terms), through the render worker."""
    from onboarding.domain.terms import parse_terms

    answers = load("burned-marketer")
    terms = parse_terms(json.loads((EXAMPLES / "burned-marketer.terms.json").read_text()))
    agreement = compose(answers, assess(answers), date=DAY, terms=terms)
    first = render_pdf(agreement, cache=NoCache())
    second = render_pdf(agreement, cache=NoCache())
    assert not agreement.draft and first.pdf == second.pdf


def test_only_packaged_assets_were_fetched():
    renderer = get_renderer()
    assert renderer.setup_fetches  # the fonts, read while parsing the stylesheet
    for url in renderer.setup_fetches:
        assert url.startswith(STATIC_DIR.as_uri() + "/fonts/Inter-")


def test_answers_full_of_fetches_fetch_nothing_and_embed_nothing():
    answers = load("burned-marketer")
    for qid, question in get_questionnaire().questions.items():
        if question.type == "text":
            answers[qid] = ATTACK[: question.max_length]
    result = render_agreement(answers, assess(answers), date=DAY, cache=NoCache())
    assert result.refused == ()  # escaped text: nothing was even attempted
    reader = PdfReader(io.BytesIO(result.pdf))
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in reader.trailer["/Root"].get("/Names", {})
    assert b"root:" not in result.pdf and b"root:" not in stream_bytes(reader)
    text = words(" ".join(page.extract_text() for page in reader.pages))
    assert 'rel="attachment" href="file:///etc/passwd"' in text  # shown as text


def raw_html(body):
    return f'<!doctype html><html lang="en"><head><title>t</title></head><body>{body}</body></html>'


def test_the_fetcher_refuses_even_markup_that_escaped_nothing():
    """Defence in depth: raw tags reaching the renderer still fetch nothing."""
    traversal = STATIC_DIR.as_uri() + "/../cli.py"
    body = ATTACK + (
        f'<img src="{traversal}"><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="https://example.com/logo.png">'
    )
    result = get_renderer().render(raw_html(body))
    assert set(result.refused) >= {
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.png",
        "http://127.0.0.1:9/a.css",
        "https://example.com/logo.png",
    }
    assert any(url.endswith("cli.py") for url in result.refused)
    assert any(url.startswith("data:") for url in result.refused)
    assert result.served == ()
    reader = PdfReader(io.BytesIO(result.pdf))
    assert reader.attachments == {}
    assert b"root:" not in stream_bytes(reader)


@pytest.mark.skipif(not os.path.exists("/etc/passwd"), reason="needs /etc/passwd")
def test_the_default_fetcher_would_have_embedded_the_file():
    """The control for the test above: WeasyPrint's default fetcher embeds it."""
    from weasyprint import HTML

    pdf = HTML(string=raw_html('<link rel="attachment" href="file:///etc/passwd">')).write_pdf()
    assert "passwd" in PdfReader(io.BytesIO(pdf)).attachments


def test_same_input_same_bytes_even_in_a_new_renderer():
    answers = load("hands-on-director")
    assessment = assess(answers)
    first = render_agreement(answers, assessment, date=DAY, cache=NoCache())
    second = render_agreement(answers, assessment, date=DAY, cache=NoCache())
    assert first.pdf == second.pdf and not first.cached and not second.cached
    agreement = compose(answers, assessment, date=DAY)
    fresh = PdfRenderer()  # its own font configuration and parsed stylesheet
    from onboarding.rendering.pdf import html_for

    html = html_for(agreement, static_base=None, trace="appendix")
    assert fresh.render(html, identifier=agreement.sha256[:32].encode()).pdf == first.pdf
    other_day = render_agreement(answers, assessment, date="2026-11-28", cache=NoCache())
    assert other_day.pdf != first.pdf


def test_letter_and_a4():
    answers = load("calm-founder")
    assessment = assess(answers)
    a4 = render_agreement(answers, assessment, date=DAY, cache=NoCache())
    letter = render_agreement(answers, assessment, paper="letter", date=DAY, cache=NoCache())
    box = PdfReader(io.BytesIO(a4.pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    for page in PdfReader(io.BytesIO(letter.pdf)).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)
    assert a4.sha256 == letter.sha256  # the same agreement on other paper
    with pytest.raises(ValueError):
        render_agreement(answers, assessment, paper="a5", date=DAY, cache=NoCache())


def test_a_cache_hit_returns_the_same_bytes_without_rendering():
    answers = load("calm-founder")
    assessment = assess(answers)
    cache = MemoryCache()
    renderer = get_renderer()
    before = renderer.renders
    first = render_agreement(answers, assessment, date=DAY, cache=cache)
    assert renderer.renders == before + 1 and not first.cached and len(cache) == 1
    second = render_agreement(answers, assessment, date=DAY, cache=cache)
    assert renderer.renders == before + 1  # no render
    assert second.cached and second.pdf == first.pdf
    assert (second.document_id, second.sha256, second.filename) == (
        first.document_id,
        first.sha256,
        first.filename,
    )
    letter = render_agreement(answers, assessment, paper="letter", date=DAY, cache=cache)
    assert not letter.cached and renderer.renders == before + 2 and len(cache) == 2
    agreement = compose(answers, assessment, date=DAY)
    assert cache.get(cache_key(agreement, "a4", renderer)) == first.pdf


class DictCache:
    """What a database-backed cache looks like: two methods."""

    def __init__(self):
        self.data = {}

    def get(self, key):
        return self.data.get(key)

    def put(self, key, pdf):
        self.data[key] = pdf


def test_any_object_with_get_and_put_is_a_cache():
    answers = load("calm-founder")
    assessment = assess(answers)
    cache = DictCache()
    first = render_agreement(answers, assessment, date=DAY, cache=cache)
    (key,) = cache.data
    assert len(key) == 64 and cache.data[key] == first.pdf
    assert render_agreement(answers, assessment, date=DAY, cache=cache).cached


def test_cli_writes_the_pdf_and_the_preview(tmp_path):
    from click.testing import CliRunner

    from onboarding.cli import main

    out, html = tmp_path / "a.pdf", tmp_path / "a.html"
    args = ["agreement", str(EXAMPLES / "burned-marketer.json"), "-o", str(out)]
    args += ["--html", str(html), "--paper", "letter", "--date", "2026-11-27"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "AGR-" in result.output
    page = PdfReader(out).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)
    assert (STATIC_DIR.as_uri() + "/agreement.css") in html.read_text()
    again = tmp_path / "b.pdf"
    args[3] = str(again)
    assert CliRunner().invoke(main, args).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


# --- the render worker: time and memory caps ---------------------------------------------

SLOW = raw_html("".join(f"<p>Paragraph {i}. " + "word " * 40 + "</p>" for i in range(3000)))
"""About 290 pages: several seconds of rendering."""

HUGE = raw_html("<!--" + "x" * 30_000_000 + "-->")
"""30 MB of comment: a few hundred MB for the parser, nothing on the page."""


@pytest.fixture
def workers():
    """Make WorkerRenderers; every one is closed after the test."""
    made = []

    def make(**options):
        renderer = WorkerRenderer(**options)
        made.append(renderer)
        return renderer

    yield make
    for renderer in made:
        renderer.close()


def gone(pid):
    """True when no process has this id (the worker was reaped, not left a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def address_space_mib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmSize:\s+(\d+) kB", status, re.M).group(1)) / 1024


def test_the_app_renderer_is_a_reused_worker_process():
    renderer = get_renderer()
    assert isinstance(renderer, WorkerRenderer) and renderer is get_renderer()
    first = renderer.render(raw_html("<p>one</p>"))
    pid, starts, renders = renderer.pid, renderer.starts, renderer.renders
    second = renderer.render(raw_html("<p>two</p>"))
    assert pid is not None and pid != os.getpid()
    assert renderer.pid == pid and renderer.starts == starts  # the same worker
    assert renderer.renders == renders + 1
    assert first.pages == second.pages == 1 and first.pdf.startswith(b"%PDF-")


def test_a_worker_is_replaced_after_its_render_budget(workers):
    renderer = workers(max_renders=2)
    renderer.render(raw_html("<p>one</p>"))
    first = renderer.pid
    renderer.render(raw_html("<p>two</p>"))  # the second render: the worker retires
    assert renderer.pid is None and gone(first)
    renderer.render(raw_html("<p>three</p>"))
    assert renderer.pid not in (None, first) and renderer.starts == 2


def test_the_worker_gives_the_same_bytes_as_an_in_process_renderer():
    answers = load("burned-marketer")
    agreement = compose(answers, assess(answers), date=DAY)
    html = html_for(agreement, static_base=None, trace="appendix")
    identifier = agreement.sha256[:32].encode()
    through_worker = get_renderer().render(html, identifier=identifier)
    in_process = PdfRenderer().render(html, identifier=identifier)
    assert through_worker == in_process  # pdf, pages, served and refused
    assert render_pdf(agreement, cache=NoCache()).pdf == in_process.pdf


def test_a_render_over_the_time_cap_is_stopped_and_the_next_gets_a_fresh_worker(workers):
    renderer = workers(timeout=0.05)
    assert renderer.setup_fetches  # the worker is up; its start-up is not timed
    pid, folder = renderer.pid, renderer._tmp
    start = time.monotonic()
    with pytest.raises(RenderTimeout, match="longer than 0.05 s"):
        renderer.render(SLOW)
    assert time.monotonic() - start < 2  # not the seconds the render would take
    assert renderer.pid is None and gone(pid) and not Path(folder).exists()
    assert renderer.renders == 0
    renderer.timeout = 60
    result = renderer.render(raw_html("<p>after</p>"))
    assert result.pages == 1 and renderer.pid not in (None, pid) and renderer.starts == 2


def test_a_render_over_the_memory_cap_fails_cleanly(workers):
    probe = workers(memory_mb=0)
    if not Path(f"/proc/{os.getpid()}/status").exists():
        pytest.skip("needs /proc")
    probe.setup_fetches  # noqa: B018 - starts the worker
    started = address_space_mib(probe.pid)  # a worker's address space after its set-up
    probe.close()
    tight = workers(memory_mb=started + 64)
    with pytest.raises(RenderFailed, match="out of memory") as raised:
        tight.render(HUGE)
    assert raised.value.reason == "memory" and tight.pid is None  # that worker has gone
    # This process is unharmed, and with the normal cap the same document renders.
    result = get_renderer().render(HUGE)
    assert result.pages == 1 and get_renderer().memory_mb == 1024


def test_a_memory_cap_too_small_to_start_fails_cleanly_and_can_be_raised(workers):
    renderer = workers(memory_mb=40)  # less than WeasyPrint's libraries need to load
    with pytest.raises(RenderFailed, match="could not start|while starting") as raised:
        renderer.render(raw_html("<p>x</p>"))
    assert raised.value.reason in ("start", "memory") and renderer.pid is None
    renderer.memory_mb = 1024
    assert renderer.render(raw_html("<p>x</p>")).pages == 1 and renderer.starts == 2


def test_a_worker_killed_during_a_render_fails_that_render_only(workers):
    renderer = workers()
    renderer.setup_fetches  # noqa: B018 - starts the worker
    pid = renderer.pid
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
    killer.start()
    try:
        with pytest.raises(RenderFailed, match="SIGKILL") as raised:
            renderer.render(SLOW)
    finally:
        killer.join()
    assert raised.value.reason == "died" and gone(pid)
    assert renderer.render(raw_html("<p>after</p>")).pages == 1 and renderer.pid != pid


def test_a_worker_that_died_between_renders_is_replaced_quietly(workers):
    renderer = workers()
    renderer.render(raw_html("<p>before</p>"))
    pid = renderer.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while renderer._process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert renderer.render(raw_html("<p>after</p>")).pages == 1
    assert renderer.pid != pid and renderer.starts == 2 and renderer.renders == 2


def test_an_error_in_a_render_is_reported_and_the_worker_carries_on(workers):
    renderer = workers()
    renderer.render(raw_html("<p>before</p>"))
    pid = renderer.pid
    with pytest.raises(RenderFailed, match="TypeError") as raised:
        renderer.render(None)  # WeasyPrint: no source
    assert raised.value.reason == "error" and "Traceback" in raised.value.detail
    assert renderer.render(raw_html("<p>after</p>")).pages == 1 and renderer.pid == pid


def test_renders_from_several_threads_share_the_worker(workers):
    renderer = workers()
    html = raw_html("<p>" + "word " * 400 + "</p>")
    results, errors = [], []

    def render():
        try:
            results.append(renderer.render(html, identifier=b"0" * 32).pdf)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 4 and len(set(results)) == 1
    assert renderer.starts == 1 and renderer.renders == 4


def test_close_stops_the_worker_and_removes_its_folder(workers):
    renderer = workers()
    renderer.render(raw_html("<p>x</p>"))
    pid, folder = renderer.pid, renderer._tmp
    assert Path(folder).is_dir()
    renderer.close()
    assert renderer.pid is None and gone(pid) and not Path(folder).exists()
    renderer.close()  # again: nothing to do


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_worker():
    """As a gunicorn worker forked from a master that had rendered would."""
    renderer = get_renderer()
    renderer.render(raw_html("<p>parent</p>"))
    parent_worker = renderer.pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        code = 1
        try:
            mine = get_renderer()
            ok = mine.render(raw_html("<p>child</p>")).pages == 1
            os.write(write, f"{ok} {mine.pid}".encode())
            mine.close()
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as answer:
        ok, child_worker = answer.read().split()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and ok == "True"
    assert int(child_worker) not in (parent_worker, child)
    assert renderer.pid == parent_worker  # the parent's worker was left alone
    assert renderer.render(raw_html("<p>parent again</p>")).pages == 1
