"""The agreement's layout, measured on the pages WeasyPrint lays out (the boxes the PDF
is written from, with positions): every example and each fee model, read page by page
as a reader would. The rules, not today's page count:

- no page under a third full except the last;
- no table row alone on a page (a table that runs on keeps two rows on each page);
- no heading repeated as its own first sub-heading ("1 Parties" / "1.1 Parties");
- a contents entry never wraps its page number onto a line of its own (a document longer
  than the page budget has contents: "long", an example with many clauses added);
- every table header cell carries its scope, in the HTML and in the PDF's tags.
"""

import dataclasses
import datetime as dt
import io
import json
import re

import pytest
from pypdf import PdfReader

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.terms import parse_terms
from onboarding.rendering.pdf import PdfRenderer, html_for
from tests.factories import EXAMPLES

DAY = dt.date(2026, 12, 1)
MIN_FILL = 1 / 3
EXAMPLE_NAMES = sorted(p.name.removesuffix(".terms.json") for p in EXAMPLES.glob("*.terms.json"))
MODELS = {
    # Each fee model over the answers of an example (only v1 keys, which stay accepted).
    "retainer": (
        "calm-founder",
        {
            "fee": {"model": "retainer", "monthly": "6000.00", "months": 6},
            "start_date": "2027-02-01",
            "valid_until": "2027-01-29",
        },
    ),  # fmt: skip
    "time-and-materials": (
        "hands-on-director",
        {
            "fee": {
                "model": "time_and_materials",
                "day_rate": "850.00",
                "estimate_days": 40,
                "cap": "36000.00",
            },
            "start_date": "2027-02-01",
            "valid_until": "2027-01-29",
        },
    ),  # fmt: skip
    "draft": ("burned-marketer", None),
}


def _answers(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def _terms(name):
    return parse_terms(json.loads((EXAMPLES / f"{name}.terms.json").read_text()))


@pytest.fixture(scope="module")
def renderer():
    return PdfRenderer()


def _long_terms():
    """The hands-on director's terms with 40 clauses the account manager added: a
    document over the page budget, so with a table of contents."""
    raw = json.loads((EXAMPLES / "hands-on-director.terms.json").read_text())
    text = (
        "The Agency prepares, for this part of the work, a written note of what was agreed, "
        "who does what and by when, and sends it to the Client's contact for confirmation; "
        "the note becomes part of the brief once the Client confirms it in writing."
    )
    sections = ("goals", "scope", "process", "collaboration", "concerns", "term")
    raw["clauses"] = {
        "add": [
            {"section": sections[i % len(sections)], "title": f"Working note {i + 1}", "text": text}
            for i in range(40)
        ]
    }
    return parse_terms(raw)


def _agreement(case):
    if case == "long":
        answers = _answers("hands-on-director")
        return compose(answers, assess(answers), date=DAY, terms=_long_terms())
    if case in MODELS:
        name, raw = MODELS[case]
        terms = parse_terms(raw) if raw is not None else None
    else:
        name, terms = case, _terms(case)
    answers = _answers(name)
    return compose(answers, assess(answers), date=DAY, terms=terms)


def _version_2():
    """Version 2 of an example's agreement (another reply time and more rounds) and its
    page "Changes since version 1", as a re-sent agreement's PDF has it."""
    from onboarding.domain.redline import changes, redline

    name = "burned-marketer"
    answers, raw = _answers(name), json.loads((EXAMPLES / f"{name}.terms.json").read_text())
    first = compose(answers, assess(answers), date=DAY, terms=parse_terms(raw))
    raw["service_levels"] = {"revision_rounds": 4, "response_hours": 4}
    second = compose(answers, assess(answers), date=DAY, terms=parse_terms(raw))
    before, after = first.content(), second.content()
    return second, changes(redline(before, after), 1, before, after)


_laid_out = {}


def laid_out(renderer, case, agreement=None):
    """(html, weasyprint Document) of one case, as the client's PDF is rendered."""
    key = case if agreement is None else None
    if key in _laid_out:
        return _laid_out[key]
    shown = None
    if case == "version-2":
        agreement, shown = _version_2()
    agreement = agreement or _agreement(case)
    html = html_for(agreement, static_base=None, trace="appendix", changes=shown)
    result = (html, renderer.layout(html))
    if key is not None:
        _laid_out[key] = result
    return result


CASES = [*EXAMPLE_NAMES, *MODELS, "version-2", "long"]


# --- measuring the laid-out pages ------------------------------------------------------


def walk(box, ancestors=()):
    """Every box under ``box`` with its ancestors, in document order."""
    yield box, ancestors
    for child in getattr(box, "children", None) or ():
        yield from walk(child, (*ancestors, box))


def content(page):
    """The page's own content boxes (the root box; not the running headers and footers)."""
    return page._page_box.children[0]


def ink(box):
    """True for a box that puts something on the page (text or a picture)."""
    from weasyprint.formatting_structure import boxes

    return isinstance(box, (boxes.TextBox, boxes.ReplacedBox)) and box.height > 0


def fill(page):
    """How much of the page's text area its content uses, from the top (0 to 1)."""
    box = page._page_box
    top = box.content_box_y()
    bottoms = [b.position_y + b.height for b, _ in walk(content(page)) if ink(b)]
    return (max(bottoms, default=top) - top) / box.height


def classes(box):
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []


def text_of(box):
    return " ".join(b.text for b, _ in walk(box) if hasattr(b, "text") and b.text.strip())


def body_rows_by_page(document):
    """``{table: [rows on page 1, rows on page 2, ...]}`` for every table that has a
    body row, a table known by its HTML element (a row split over pages counts on both)."""
    out = {}
    for number, page in enumerate(document.pages):
        seen = {}
        for box, ancestors in walk(content(page)):
            if box.element_tag != "tr" or not any(a.element_tag == "tbody" for a in ancestors):
                continue
            table = next(a for a in reversed(ancestors) if a.element_tag == "table")
            seen.setdefault(table.element, set()).add(box.element)
        for table, rows in seen.items():
            out.setdefault(table, {})[number] = len(rows)
    return out


def headings(document):
    """Every heading of the laid-out document, in order: (level, text), once each."""
    out, seen = [], set()
    for page in document.pages:
        for box, _ in walk(content(page)):
            if box.element_tag in ("h2", "h3") and box.element not in seen:
                seen.add(box.element)
                out.append((box.element_tag, text_of(box)))
            if "terms-clause__title" in classes(box) and box.element not in seen:
                seen.add(box.element)
                out.append(("h4", text_of(box)))
    return out


def _bare(title):
    """A heading without its number and end punctuation: "1.1 Parties." -> "parties"."""
    return re.sub(r"^[\d.]+\s*", "", " ".join(title.split())).rstrip(".:").casefold()


def contents_entries(document):
    """(title lines' y positions, page number's y position) for each contents entry."""
    out = []
    for page in document.pages:
        for box, ancestors in walk(content(page)):
            if box.element_tag != "li" or not any(
                "contents__list" in classes(a) for a in ancestors
            ):
                continue
            title, number = [], []
            for b, up in walk(box):
                if hasattr(b, "text") and b.text.strip():
                    if any(a.element_tag == "a::after" for a in up):
                        number.append(b)
                    elif any("contents__title-text" in classes(a) for a in up):
                        title.append(b)
            out.append((text_of(box), title, number))
    return out


# --- the rules --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_no_page_under_a_third_full_except_the_last(renderer, case):
    _, document = laid_out(renderer, case)
    fills = [round(fill(page), 2) for page in document.pages]
    short = [(n, f) for n, f in enumerate(fills[:-1], start=1) if f < MIN_FILL]
    assert not short, f"{case}: pages under a third full (page, fill): {short}; all: {fills}"


@pytest.mark.parametrize("case", CASES)
def test_no_page_ends_with_a_heading_or_a_caption(renderer, case):
    """A heading (or a table's caption) is on the page of what it heads. A clause title
    set in the line of its text (the PDF's run-in titles) ends no page: the last line
    holds its text too."""
    _, document = laid_out(renderer, case)
    for number, page in enumerate(document.pages[:-1], start=1):
        inked = [(b, a) for b, a in walk(content(page)) if ink(b)]
        bottom = max(b.position_y + b.height for b, _ in inked)
        last_line = [(b, a) for b, a in inked if b.position_y + b.height > bottom - 2]
        headed = [{x.element_tag for x in a} & {"h1", "h2", "h3", "caption"} for _, a in last_line]
        assert not all(headed), f"{case}: page {number} ends with {text_of(last_line[0][1][-1])!r}"


@pytest.mark.parametrize("case", CASES)
def test_no_table_row_alone_on_a_page(renderer, case):
    _, document = laid_out(renderer, case)
    for table, pages in body_rows_by_page(document).items():
        if len(pages) > 1:
            alone = {page + 1: rows for page, rows in pages.items() if rows < 2}
            name = table.get("class")
            assert not alone, f"{case}: a table ({name}) leaves one row on page(s) {alone}"


KEPT_WHOLE = ("parties", "clause", "signatures", "summary__item", "roadmap", "contents")
"""Blocks a reader expects on one page: the parties' boxes, a clause of the tailored
sections, the signature block, a line of "At a glance", the roadmap, the contents."""


@pytest.mark.parametrize("case", CASES)
def test_parties_clauses_and_signatures_are_never_split_over_two_pages(renderer, case):
    _, document = laid_out(renderer, case)
    pages_of = {}
    for number, page in enumerate(document.pages, start=1):
        for box, _ in walk(content(page)):
            if set(classes(box)) & set(KEPT_WHOLE):
                pages_of.setdefault(box.element, set()).add(number)
    split = {
        f"{' '.join(element.get('class').split()[:1])} {element.get('id') or ''}": sorted(pages)
        for element, pages in pages_of.items()
        if len(pages) > 1
    }
    assert not split, f"{case}: split over pages: {split}"


@pytest.mark.parametrize("rows", [3, 6])
def test_a_table_broken_anywhere_keeps_two_rows_on_each_page(renderer, rows):
    """The rule itself, wherever the page ends: a table after a spacer of every height
    from a line to a page, so a page break falls after each of its rows in turn."""
    row = "<tr><th scope='row'>Row {n}</th><td>" + "A cell of text. " * 6 + "</td></tr>"
    body = "".join(row.format(n=n) for n in range(rows))
    table = ("<table class='decisions'><thead><tr><th scope='col'>Decision</th>"
             f"<th scope='col'>How</th></tr></thead><tbody>{body}</tbody></table>")  # fmt: skip
    checked = 0
    for spacer_mm in range(150, 250, 4):
        spacer = f"<div style='height:{spacer_mm}mm'></div>"
        page = f"<main class='doc'>{spacer}{table}</main>"
        html = f"<html lang='en'><body class='agreement'>{page}</body></html>"
        document = renderer.layout(html)
        for pages in body_rows_by_page(document).values():
            if len(pages) > 1:
                checked += 1
                assert min(pages.values()) >= 2, f"{spacer_mm} mm: rows by page {pages}"
    if rows >= 4:
        assert checked, "no spacer made the table run on to a second page"
    else:  # three rows cannot be split without leaving one alone: the table moves whole
        assert not checked


@pytest.mark.parametrize("case", CASES)
def test_no_heading_repeated_as_its_own_first_sub_heading(renderer, case):
    _, document = laid_out(renderer, case)
    found = headings(document)
    assert any(level == "h3" for level, _ in found)
    for (level, title), (next_level, next_title) in zip(found, found[1:], strict=False):
        if level < next_level:  # a heading and its first sub-heading
            assert _bare(title) != _bare(next_title), f"{case}: {title!r} / {next_title!r}"


def test_a_clause_titled_as_its_section_shows_its_number_and_text_only(renderer):
    """The examples' first clause of Parties is titled "Parties": shown as 1.1 and its
    text, under the one heading."""
    agreement = _agreement("burned-marketer")
    parties = agreement.sections[0]
    assert parties.clauses and parties.repeats_title(parties.clauses[0])
    html, document = laid_out(renderer, "burned-marketer")
    text = " ".join(text_of(content(p)) for p in document.pages)
    first = parties.clauses[0]
    assert f"{first.number} {first.text.split()[0]}" in " ".join(text.split())


@pytest.mark.parametrize("case", CASES)
def test_contents_entries_keep_their_page_number_on_the_title_line(renderer, case):
    """Contents only for a document over the page budget (issue 24), each entry whole."""
    agreement = _agreement(case) if case != "version-2" else _version_2()[0]
    _, document = laid_out(renderer, case)
    if not agreement.has_contents:
        assert not contents_entries(document), f"{case}: contents in a short document"
        return
    _assert_contents_hold(document, case)


def test_a_long_document_has_contents_and_the_others_none():
    assert _agreement("long").has_contents
    assert not any(_agreement(case).has_contents for case in [*EXAMPLE_NAMES, *MODELS])


def test_a_long_contents_title_wraps_with_its_page_number_on_its_last_line(renderer):
    agreement = _agreement("long")
    long_title = "Addressing the Client's concerns about the budget, the timeline and the work"
    sections = tuple(
        dataclasses.replace(s, title=long_title) if s.id == "concerns" else s
        for s in agreement.sections
    )
    _, document = laid_out(renderer, None, dataclasses.replace(agreement, sections=sections))
    entries = _assert_contents_hold(document, "a long title")
    wrapped = [t for t, title, _ in entries if len({round(b.position_y) for b in title}) > 1]
    assert wrapped, "the long title did not wrap: the test proves nothing"


def _assert_contents_hold(document, case):
    entries = contents_entries(document)
    assert entries, f"{case}: no contents"
    for text, title, number in entries:
        assert len(number) == 1, f"{case}: {text!r}: page number {[b.text for b in number]}"
        last_line = max(b.position_y for b in title)
        (page,) = number
        assert abs(page.position_y - last_line) < 2, (
            f"{case}: {text!r}: the page number is not on the title's last line"
        )
        right = max(b.position_x + b.width for b in title if abs(b.position_y - last_line) < 2)
        assert page.position_x >= right, f"{case}: {text!r}: the page number overlaps the title"
    return entries


@pytest.mark.parametrize("case", CASES)
def test_every_table_header_cell_has_its_scope(renderer, case):
    html, _ = laid_out(renderer, case)
    cells = re.findall(r"<th\b[^>]*>", html)
    assert cells
    assert all(re.search(r"""\bscope=["'](col|row)["']""", c) for c in cells), [
        c for c in cells if "scope=" not in c
    ]
    pdf = renderer.render(html).pdf
    reader = PdfReader(io.BytesIO(pdf))
    headers = []

    def visit(element):
        element = element.get_object()
        if element.get("/S") == "/TH":
            headers.append(element)
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if kid is not None and hasattr(kid, "get_object"):
                kid_object = kid.get_object()
                if hasattr(kid_object, "get") and kid_object.get("/Type") == "/StructElem":
                    visit(kid_object)

    visit(reader.root_object["/StructTreeRoot"])
    # Each header cell tagged (a table's head row is tagged again on each page it runs
    # on to), each with its scope: a body row's header heads the row, a head row's the column.
    assert len(headers) >= len(cells)
    scopes = [h.get("/A", {}).get("/Scope") for h in headers]
    assert None not in scopes
    assert scopes.count("/Row") == sum('scope="row"' in c or "scope='row'" in c for c in cells)
    assert set(scopes) <= {"/Row", "/Column"}


@pytest.mark.parametrize("case", CASES)
def test_the_pdf_passes_the_pdf_ua_checks(renderer, case, tmp_path):
    """The machine-checkable PDF/UA-1 rules (pdfua): no error and no warning, the
    table rules included (header cells with their scope, rows under each table)."""
    pdfua = pytest.importorskip("pdfua")
    html, _ = laid_out(renderer, case)
    path = tmp_path / f"{case}.pdf"
    path.write_bytes(renderer.render(html).pdf)
    report = pdfua.validate(str(path))
    found = [f"{f.rule_id}: {f.message} ({f.location})" for f in report.findings]
    assert not report.findings, found
