"""The prospects dashboard, the drafts list and the CSV export."""

from __future__ import annotations

import csv
import html
import io
import random
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake, User
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.intake import export, listing
from onboarding.services.intake.submission import create_intake
from onboarding.services.people.accounts import create_user
from tests.factories import DAY, PASSWORD, add_intake, login

ROUTES = ["/workspace/", "/workspace/drafts", "/workspace/export.csv"]
LINK = re.compile(r'<a href="/workspace/intakes/[^"]+">([^<]+)</a>')


@pytest.fixture
def people(app, staff):
    """Four prospects whose every listed column sorts them in a different order."""
    with app.app_context():
        create_user("zoe@example.com", "manager", PASSWORD, "Zoe Zed", settings=app.config)
        db.session.flush()
        rng = random.Random(3)
        add_intake(
            rng, "Ada Zeller", "Delta Works", "ada.zeller@example.com",
            submitted=DAY, owner="manager@example.com", status="new", score=85, risk="fear",
        )  # fmt: skip
        add_intake(
            rng, "Bo Young", "Alpha Labs", "bo.young@example.com",
            submitted=DAY + timedelta(days=2), owner="admin@example.com", status="declined",
            score=20, risk="trust_deficit",
        )  # fmt: skip
        add_intake(
            rng, "Cy Xu", "Charlie Co", "Cy.Xu@Example.com",
            submitted=DAY + timedelta(days=1), owner=None, status="in_review", score=55,
            risk="excess_free_time",
        )  # fmt: skip
        add_intake(
            rng, "Di Wolf", "Bravo Inc", "di.wolf@example.com",
            submitted=DAY + timedelta(days=3), owner="zoe@example.com", status="accepted",
            score=45, risk="process_transparency",
        )  # fmt: skip
        draft = create_intake({"contact_name": "Ed Draft", "company": "Echo Drafts"})
        draft.current_step = "goals"
        create_intake()  # opened, nothing saved yet
        db.session.commit()
    return ["Ada Zeller", "Bo Young", "Cy Xu", "Di Wolf"]


def names(page: str) -> list[str]:
    """The prospects listed on a page, in order."""
    return [html.unescape(n) for n in LINK.findall(page)]


def notes(page: str) -> str:
    match = re.search(r'<div class="notice" role="status">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


@pytest.fixture
def manager(client, staff):
    login(client, staff["manager"])
    return client


# --- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
def test_signed_out_visitors_are_sent_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- the prospects list --------------------------------------------------------------------


def test_lists_submitted_intakes_newest_first_with_every_column(manager, people):
    page = manager.get("/workspace/")
    assert page.status_code == 200
    assert names(page.text) == ["Di Wolf", "Bo Young", "Cy Xu", "Ada Zeller"]
    assert "Ed Draft" not in page.text
    text = page.text
    assert '<span class="band band--poor">Poor</span>' in text
    assert "Trust deficit" in text and "Unclear process" in text
    assert "Declined" in text and "In review" in text
    assert "Zoe Zed" in text and "Max Manager" in text and "—" in text
    assert "04 Mar 2026" in text
    assert 'aria-sort="descending"' in text and text.count("aria-sort=") == 1
    assert "4</strong> prospects" in text
    assert "2 guarded" in text and "1 strong" in text and "1 poor" in text


SORTED = {
    "name": ["Ada Zeller", "Bo Young", "Cy Xu", "Di Wolf"],
    "company": ["Bo Young", "Di Wolf", "Cy Xu", "Ada Zeller"],
    "submitted": ["Ada Zeller", "Cy Xu", "Bo Young", "Di Wolf"],
    "score": ["Bo Young", "Di Wolf", "Cy Xu", "Ada Zeller"],
    "band": ["Bo Young", "Di Wolf", "Cy Xu", "Ada Zeller"],
    "risk": ["Cy Xu", "Ada Zeller", "Bo Young", "Di Wolf"],
    "status": ["Ada Zeller", "Cy Xu", "Di Wolf", "Bo Young"],
    "owner": ["Bo Young", "Ada Zeller", "Di Wolf", "Cy Xu"],
}


@pytest.mark.parametrize("key", SORTED)
def test_sort_by_each_column_both_ways(manager, people, key):
    ascending = manager.get(f"/workspace/?sort={key}&dir=asc").text
    assert names(ascending) == SORTED[key]
    assert re.search(r'aria-sort="ascending">\s*<a class="sort-link" href="([^"]+)"', ascending)
    descending = manager.get(f"/workspace/?sort={key}&dir=desc").text
    assert names(descending) == SORTED[key][::-1]
    assert 'aria-sort="descending"' in descending


def test_a_column_heading_toggles_its_direction(manager, people):
    page = manager.get("/workspace/?sort=name&dir=asc&band=guarded").text
    link = re.search(r'aria-sort="ascending">\s*<a class="sort-link" href="([^"]+)"', page)
    query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert query == {"sort": ["name"], "dir": ["desc"], "band": ["guarded"]}
    assert names(manager.get(html.unescape(link.group(1))).text) == ["Di Wolf", "Cy Xu"]


def test_ties_are_broken_by_id_in_the_same_direction(app, manager, staff):
    with app.app_context():
        rng = random.Random(5)
        for name in ("Twin One", "Twin Two", "Twin Three"):
            add_intake(rng, name, "Same Co", f"{name.split()[1].lower()}@example.com", score=50)
        db.session.commit()
    order = ["Twin One", "Twin Two", "Twin Three"]
    assert names(manager.get("/workspace/?sort=score&dir=asc").text) == order
    assert names(manager.get("/workspace/?sort=company&dir=desc").text) == order[::-1]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("band=guarded", ["Di Wolf", "Cy Xu"]),
        ("band=strong", ["Ada Zeller"]),
        ("status=declined", ["Bo Young"]),
        ("owner=none", ["Cy Xu"]),
        ("from=2026-03-03", ["Di Wolf", "Bo Young", "Cy Xu"]),
        ("to=2026-03-03", ["Cy Xu", "Ada Zeller"]),
        ("from=2026-03-03&to=2026-03-04", ["Bo Young", "Cy Xu"]),
        ("band=guarded&status=accepted", ["Di Wolf"]),
        ("band=poor&status=new", []),
    ],
)
def test_filters(manager, people, query, expected):
    page = manager.get(f"/workspace/?{query}")
    assert page.status_code == 200
    assert names(page.text) == expected
    if not expected:
        assert "No prospects match these filters" in page.text


def test_filter_by_owner(app, manager, people):
    zoe = user_id(app, "zoe@example.com")
    page = manager.get(f"/workspace/?owner={zoe}")
    assert names(page.text) == ["Di Wolf"]
    assert f'<option value="{zoe}" selected>Zoe Zed</option>' in page.text


@pytest.mark.parametrize(
    "q, expected",
    [
        ("zeller", ["Ada Zeller"]),  # name, other case
        ("ALPHA", ["Bo Young"]),  # company
        ("cy.xu@example", ["Cy Xu"]),  # email, stored with capitals
        ("o", ["Di Wolf", "Bo Young", "Cy Xu", "Ada Zeller"]),
        ("%", []),  # LIKE wildcards are plain characters
        ("_", []),
        ("nobody-here", []),
    ],
)
def test_search_name_company_and_email_ignoring_case(manager, people, q, expected):
    page = manager.get("/workspace/", query_string={"q": q})
    assert page.status_code == 200
    assert names(page.text) == expected
    assert f"{len(expected)}</strong>" in page.text


def test_search_beyond_ascii(app, manager, staff):
    with app.app_context():
        add_intake(random.Random(6), "Émile Ørsted", "Société Générale", "emile@example.com")
        db.session.commit()
        dialect = db.engine.dialect.name
    for q in ("ÉMILE", "Ørsted", "générale", "soc"):
        assert names(manager.get("/workspace/", query_string={"q": q}).text) == ["Émile Ørsted"]
    # PostgreSQL folds every letter; SQLite only ASCII ones (its LIKE and lower() alike).
    for q in ("émile", "ørsted", "GÉNÉRALE"):
        folded = names(manager.get("/workspace/", query_string={"q": q}).text)
        assert folded == (["Émile Ørsted"] if dialect == "postgresql" else [])


def test_search_combines_with_filters_and_sort(manager, people):
    page = manager.get("/workspace/?q=O&band=guarded&sort=name&dir=asc")
    assert names(page.text) == ["Cy Xu", "Di Wolf"]
    assert "2 guarded" in page.text


def test_pages_keep_the_filters(app, manager, staff, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    with app.app_context():
        rng = random.Random(9)
        for i in range(5):
            add_intake(
                rng, f"Guarded {i}", "Kestrel Labs", f"g{i}@example.com",
                submitted=DAY + timedelta(hours=i), score=50,
            )  # fmt: skip
        add_intake(rng, "Strong One", "Kestrel Labs", "s@example.com", score=90)
        db.session.commit()
    first = manager.get("/workspace/?band=guarded&q=kestrel&sort=name&dir=asc")
    assert names(first.text) == ["Guarded 0", "Guarded 1"]
    assert "Page 1 of 3" in first.text
    assert 'rel="prev"' not in first.text
    href = html.unescape(re.search(r'href="([^"]+)" rel="next"', first.text).group(1))
    query = parse_qs(urlsplit(href).query)
    assert query == {
        "q": ["kestrel"],
        "band": ["guarded"],
        "sort": ["name"],
        "dir": ["asc"],
        "page": ["2"],
    }
    second = manager.get(href)
    assert names(second.text) == ["Guarded 2", "Guarded 3"]
    assert "Page 2 of 3" in second.text and 'rel="prev"' in second.text
    last = manager.get("/workspace/?band=guarded&q=kestrel&sort=name&dir=asc&page=3")
    assert names(last.text) == ["Guarded 4"] and 'rel="next"' not in last.text
    # The filter form carries the sort; the CSV link carries the filters, not the page.
    assert '<input type="hidden" name="sort" value="name">' in second.text
    csv_link = html.unescape(re.search(r'href="(/workspace/export\.csv[^"]*)"', second.text)[1])
    assert parse_qs(urlsplit(csv_link).query) == {"q": ["kestrel"], "band": ["guarded"]}


def test_without_search_pages_count_the_same(app, manager, people, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    first = manager.get("/workspace/?sort=name&dir=asc")
    assert names(first.text) == ["Ada Zeller", "Bo Young", "Cy Xu"]
    assert "Page 1 of 2" in first.text
    assert names(manager.get("/workspace/?sort=name&dir=asc&page=2").text) == ["Di Wolf"]


@pytest.mark.parametrize(
    "query, note",
    [
        ("sort=secret", "Ignored the sort 'secret'"),
        ("sort=name&dir=sideways", "Ignored the direction 'dir'"),
        ("from=2026-02-30", "Ignored the date 'from': use YYYY-MM-DD"),
        ("to=yesterday", "Ignored the date 'to': use YYYY-MM-DD"),
        ("from=2026-3-1", "Ignored the date 'from'"),
        ("to=9999-12-31", "Ignored the date 'to': use a year from 1900 to 2999"),
        ("page=abc", "Ignored the page number 'page'"),
        ("page=0", "Ignored the page number 'page'"),
        ("page=-3", "Ignored the page number 'page'"),
        ("page=1e3", "Ignored the page number 'page'"),
        ("page=99999999999999999999", "Ignored the page number 'page'"),
        ("page=999", "There is no page 999 of these results: showing page 1"),
        ("band=purple", "Ignored the band"),
        ("status=draft", "Ignored the status"),
        ("owner=abc", "Ignored the owner"),
        ("owner=99999999999999999999", "Ignored the owner"),
        ("owner=4242", "Ignored the owner"),
        ("from=2026-03-05&to=2026-03-01", "Swapped the dates"),
        ("q=" + "x" * 300, "Shortened the search"),
    ],
)
def test_bad_parameters_give_the_page_with_a_note(manager, people, query, note):
    page = manager.get(f"/workspace/?{query}")
    assert page.status_code == 200
    assert note in notes(page.text)
    assert "<table" in page.text


def test_bad_parameters_never_fail(manager, people):
    for query in (
        {"q": "a\x00b"},
        {"q": "'; DROP TABLE intakes; --"},
        {"q": "\\"},
        {"sort": "\x00"},
        {"page": "9" * 5000},
        {"from": "9999-12-31", "to": "0001-01-01"},
        {"band": ["strong", "poor"], "page": ["2", "x"]},
    ):
        response = manager.get("/workspace/", query_string=query)
        assert response.status_code == 200, query
        assert manager.get("/workspace/drafts", query_string=query).status_code == 200, query
        assert manager.get("/workspace/export.csv", query_string=query).status_code == 200, query


def test_a_page_past_the_end_of_a_search_shows_the_last(app, manager, people, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    page = manager.get("/workspace/?q=o&page=7")
    assert "There is no page 7 of these results: showing page 2, the last." in notes(page.text)
    assert "Page 2 of 2" in page.text and len(names(page.text)) == 2


def test_an_override_is_shown_beside_the_computed_score(app, manager, people):
    with app.app_context():
        intake = db.session.execute(
            select(Intake).where(Intake.contact_name == "Bo Young")
        ).scalar_one()
        intake.override_score = 75
        db.session.commit()
    page = manager.get("/workspace/?status=declined").text
    assert re.search(r"20 <span aria-hidden=\"true\">→</span> <strong>75</strong>", page)
    assert "computed 20, manager's score 75" in html.unescape(page)
    assert "A manager overrode the score" in page
    assert "A manager overrode" not in manager.get("/workspace/?status=new").text


# --- drafts ----------------------------------------------------------------------------------


def test_drafts_list_shows_the_last_step(manager, people):
    page = manager.get("/workspace/drafts")
    assert page.status_code == 200
    assert "Ed Draft" in page.text and "Echo Drafts" in page.text
    assert get_questionnaire().section("goals").title in page.text
    assert "not started" in page.text
    assert "Ada Zeller" not in page.text
    assert "2</strong> drafts" in page.text


def test_drafts_are_searchable_and_paginated_newest_first(app, manager, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    with app.app_context():
        for i in range(3):
            draft = create_intake({"contact_name": f"Draft {i}", "company": "Kestrel"})
            draft.updated_at = DAY + timedelta(hours=i)
            draft.created_at = DAY
        create_intake({"contact_name": "Other", "company": "Lumen"})
        db.session.commit()
    page = manager.get("/workspace/drafts?q=KESTREL").text
    # (each name is followed by the draft's private link, to copy or email again)
    assert re.findall(r"<td data-label=\"Prospect\">([^<]+?)\s*<details", page) == [
        "Draft 2",
        "Draft 1",
    ]
    assert "Page 1 of 2" in page
    href = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    assert parse_qs(urlsplit(href).query) == {"q": ["KESTREL"], "page": ["2"]}
    second = manager.get(href).text
    assert re.findall(r"<td data-label=\"Prospect\">([^<]+?)\s*<details", second) == ["Draft 0"]
    assert "There is no page 5" in notes(manager.get("/workspace/drafts?page=5").text)


# --- CSV export --------------------------------------------------------------------------------


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_headers_and_a_row(app, manager, people):
    response = manager.get("/workspace/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="prospects-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    text = response.get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text)))
    questions = [q.id for q in get_questionnaire().questions.values()]
    assert header == [*export.EXPORT_HEADER, *questions]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["contact_name"] for r in rows] == ["Ada Zeller", "Bo Young", "Cy Xu", "Di Wolf"]
    with app.app_context():
        bo = db.session.execute(
            select(Intake).where(Intake.contact_name == "Bo Young")
        ).scalar_one()
        expected = {
            "public_id": export.neutralise(bo.public_id),  # 1 in 64 start with '-'
            "submitted_at": "2026-03-04T10:00:00Z",
            "status": "declined",
            "owner_email": "admin@example.com",
            "score": "20",
            "override_score": "",
            "band": "poor",
            "recommendation": bo.recommendation,
            "top_risk": "trust_deficit",
            "company": "Alpha Labs",
        }
        answers = dict(bo.answers)
    row = rows[1]
    assert {k: row[k] for k in expected} == expected
    q = get_questionnaire()
    for qid, question in q.questions.items():
        value = answers.get(qid)
        if value is None:
            assert row[qid] == ""
        elif question.type == "yesno":
            assert row[qid] == ("yes" if value else "no")
        elif question.type == "multi":
            assert row[qid] == "; ".join(value)
        else:
            assert row[qid] == str(value)
    assert rows[2]["owner_email"] == ""


def exported(client, query: str) -> list[str]:
    """The names in the CSV export of ``query``."""
    return [r["contact_name"] for r in rows_of(client.get(f"/workspace/export.csv?{query}"))]


def test_csv_export_applies_the_filters(app, manager, people):
    assert exported(manager, "band=guarded") == ["Cy Xu", "Di Wolf"]
    assert exported(manager, "q=ZELLER") == ["Ada Zeller"]
    assert exported(manager, f"owner={user_id(app, 'zoe@example.com')}") == ["Di Wolf"]
    assert exported(manager, "owner=none") == ["Cy Xu"]
    assert exported(manager, "from=2026-03-04&status=declined") == ["Bo Young"]
    assert exported(manager, "band=poor&status=new") == []
    assert exported(manager, "sort=name&dir=desc&page=2") == people  # id order, every page


def test_csv_export_neutralises_formulas(app, manager, staff):
    with app.app_context():
        rng = random.Random(4)
        add_intake(rng, "@Mallory", '=HYPERLINK("https://evil.example","Click")', "m@example.com")
        tab = add_intake(
            rng, "Tab\tName", "-2+3", "t@example.com", biggest_worry="+cmd|' /C calc'!A0"
        )
        tab.public_id = "-starts-with-a-dash"
        db.session.commit()
    rows = rows_of(manager.get("/workspace/export.csv"))
    assert rows[0]["company"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert rows[0]["contact_name"] == "'@Mallory"
    assert rows[1]["company"] == "'-2+3"
    assert rows[1]["contact_name"] == "Tab\tName"  # starts with a letter: unchanged
    assert rows[1]["biggest_worry"] == "'+cmd|' /C calc'!A0"
    assert rows[1]["public_id"] == "'-starts-with-a-dash"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert export.neutralise("\rX") == "'\rX" and export.neutralise("\tX") == "'\tX"
    assert export.neutralise(-2) == -2  # numbers we write ourselves stay numbers


def test_csv_export_reads_in_batches(app, people):
    with app.app_context():
        f, _ = listing.parse_filters({})
        rows = list(export.export_rows(db.session, f, batch=3))
        assert [r.id for r in rows] == sorted(r.id for r in rows) and len(rows) == 4
        chunks = list(export.export_csv(db.session, f, batch=2))
        assert len(chunks) >= 3  # the header and first batch, the second batch, the rest
        assert sum(chunk.count("\r\n") for chunk in chunks) == 5


def test_the_dashboard_links_to_the_csv_of_its_filters(manager, people):
    page = manager.get("/workspace/?band=guarded&sort=score&page=1").text
    link = html.unescape(re.search(r'href="(/workspace/export\.csv[^"]*)"', page).group(1))
    assert parse_qs(urlsplit(link).query) == {"band": ["guarded"]}
    assert "Download CSV" in page
