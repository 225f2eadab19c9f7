"""The agreement PDF: text, pages, metadata, tags, fetching, determinism, paper, cache."""

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import StreamObject

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.pdf import (
    STATIC_DIR,
    MemoryCache,
    NoCache,
    PdfRenderer,
    cache_key,
    fetcher,
    get_renderer,
    render_agreement,
    render_pdf,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
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
    assert "Signatures" in text and "Appendix: how your answers shaped this agreement" in text


def test_page_count_is_sane(rendered):
    *_, reader = rendered
    assert 3 <= len(reader.pages) <= 15


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


def test_fonts_are_the_packaged_inter(rendered):
    *_, reader = rendered
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("Inter" in name for name in fonts), fonts


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


def test_same_input_same_bytes_even_in_a_new_renderer():
    answers = load("hands-on-director")
    assessment = assess(answers)
    first = render_agreement(answers, assessment, date=DAY, cache=NoCache())
    second = render_agreement(answers, assessment, date=DAY, cache=NoCache())
    assert first.pdf == second.pdf and not first.cached and not second.cached
    agreement = compose(answers, assessment, date=DAY)
    fresh = PdfRenderer()  # its own font configuration and parsed stylesheet
    from onboarding.pdf import html_for

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
