"""The engagement agreement: composition (pure Python) and its HTML (escaped, traced)."""

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, replace

import pytest

from onboarding import AnswersInvalid, assess
from onboarding.domain import schedule
from onboarding.domain.agreement import (
    DEFAULT_AGENCY,
    WHO,
    canonical_json,
    compose,
    decision_rows,
)
from onboarding.domain.playbooks import SECTIONS
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.rendering.pdf import (
    agreement_html,
    environment,
    filename_for,
    html_for,
    roadmap_svg,
)
from tests.factories import EXAMPLES

NAMES = ["calm-founder", "burned-marketer", "hands-on-director"]
DAY = dt.date(2026, 11, 27)


def load(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.fixture(scope="module", params=NAMES)
def example(request):
    answers = load(request.param)
    assessment = assess(answers)
    return answers, assessment, compose(answers, assessment, date=DAY)


def base_clause(cid, section, text="Plain text.", triggered_by=()):
    return {
        "id": cid,
        "playbook": "lead",
        "section": section,
        "title": cid.replace("_", " ").title(),
        "text": text,
        "triggered_by": list(triggered_by),
        "uses": [],
    }


# --- structure ---------------------------------------------------------------------------


def test_every_section_in_order_with_its_clauses(example):
    answers, assessment, agreement = example
    assert [s.id for s in agreement.sections] == list(SECTIONS)
    assert [s.title for s in agreement.sections] == list(SECTIONS.values())
    assert [s.number for s in agreement.sections] == list(range(1, 13))
    # The assessment names a referenced section by its title ("the Process and
    # milestones section"); the agreement, once numbered, by its number ("section 4").
    titles = {s.number: s.title for s in (*agreement.sections, *agreement.standard_sections)}

    def by_title(text):
        return re.sub(r"\bsection (\d+)\b", lambda m: f"the {titles[int(m[1])]} section", text)

    composed = [(c.id, by_title(c.text), c.triggered_by) for c in agreement.tailored_clauses]
    expected = [
        (c["id"], " ".join(c["text"].split()), tuple(c["triggered_by"]))
        for c in assessment["clauses"]
    ]
    assert composed == expected  # every clause, once, in the assessment's order
    for section in agreement.sections:
        for i, clause in enumerate(section.clauses, start=1):
            assert clause.number == f"{section.number}.{i}"
            assert clause.anchor == f"clause-{section.number}-{i}"


def test_clauses_are_traced_to_the_answers_that_triggered_them(example):
    answers, _, agreement = example
    q = get_questionnaire()
    assert agreement.standard_clauses, "base clauses every agreement has"
    for clause in agreement.clauses:
        assert clause.standard == (not clause.triggered_by)
        assert [r.question for r in clause.reasons] == list(clause.triggered_by)
        for reason in clause.reasons:
            question = q.questions[reason.question]
            assert reason.label == question.label
            if question.type != "text":
                clean, _ = q.validate(answers)
                assert reason.answer == question.display(clean[reason.question])


def test_empty_sections_are_skipped_and_numbering_follows():
    answers = load("calm-founder")
    assessment = {
        "clauses": [
            base_clause("a", "goals"),
            base_clause("b", "escalation"),
            base_clause("c", "escalation", triggered_by=["control_level"]),
        ],
        "playbook_version": "test",
    }
    agreement = compose(answers, assessment, date=DAY)
    # Sections holding a figure (parties, roadmap, decision table) are kept.
    assert [(s.number, s.id) for s in agreement.sections] == [
        (1, "parties"), (2, "goals"), (3, "scope"), (4, "process"), (5, "decision_rights"),
        (6, "escalation"),
    ]  # fmt: skip
    assert [c.number for c in agreement.tailored_clauses] == ["2.1", "6.1", "6.2"]
    assert agreement.roadmap_section == 4 and agreement.decisions_section == 5
    reason = agreement.tailored_clauses[2].reasons[0]
    assert reason.label == "How closely do you want to direct the creative work?"
    assert reason.answer == "2 of 5"


def test_invalid_answers_raise_with_every_error():
    answers = load("calm-founder")
    answers.update(control_level=9, colour="red")
    with pytest.raises(AnswersInvalid) as info:
        compose(answers, {"clauses": []}, date=DAY)
    assert {e.question for e in info.value.errors} == {"control_level", "colour"}


def test_dates_accept_iso_strings_and_reject_nonsense():
    answers = load("calm-founder")
    assessment = assess(answers)
    a = compose(answers, assessment, date="2026-11-27")
    b = compose(answers, assessment, date=dt.datetime(2026, 11, 27, 15, 30))
    assert a == b and a.date == "2026-11-27" and a.date_display == "27 November 2026"
    with pytest.raises(ValueError):
        compose(answers, assessment, date="27/11/2026")


# --- identity ---------------------------------------------------------------------------


def test_id_and_hash_come_from_the_canonical_content(example):
    answers, assessment, agreement = example
    digest = hashlib.sha256(canonical_json(agreement)).hexdigest()
    assert agreement.sha256 == digest
    assert re.fullmatch(r"AGR-[0-9A-F]{10}", agreement.document_id)
    assert agreement.document_id == "AGR-" + digest[:10].upper()
    content = json.loads(canonical_json(agreement))
    assert "sha256" not in content and "document_id" not in content
    assert canonical_json(agreement) == json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    again = compose(answers, json.loads(json.dumps(assessment)), date=DAY)
    assert again.sha256 == agreement.sha256
    # The content is dataclasses.asdict's, as the stored versions' hashes were computed.
    expected = asdict(agreement)
    del expected["document_id"], expected["sha256"]
    assert json.dumps(agreement.content(), sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_hash_changes_with_date_agency_and_content():
    answers = load("calm-founder")
    assessment = assess(answers)
    base = compose(answers, assessment, date=DAY)
    assert base.agency == DEFAULT_AGENCY == "Brightline Studio"
    others = [
        compose(answers, assessment, date=DAY + dt.timedelta(days=1)),
        compose(answers, assessment, agency="Other Agency", date=DAY),
        compose(answers, dict(assessment, playbook_version="x"), date=DAY),
        compose(dict(answers, company="Lumen Bakery Ltd"), assessment, date=DAY),
    ]
    assert len({base.sha256, *(o.sha256 for o in others)}) == 5


# --- decision rights, roadmap, parties -----------------------------------------------------


def rows_for(**changes):
    answers = dict(load("calm-founder"), **changes)
    agreement = compose(answers, assess(answers), date=DAY)
    return agreement, {r.area: r for r in agreement.decisions}


def test_decision_table_has_the_seven_areas_with_questionnaire_labels():
    agreement, rows = rows_for()
    values = get_questionnaire().questions["decisions_owned"].values
    assert [r.area for r in agreement.decisions] == list(values)
    assert [r.label for r in agreement.decisions] == list(values.values())


def test_decision_rules():
    _, rows = rows_for(control_level=4, decisions_owned=["copy", "timeline"])
    assert rows["copy"].who == rows["timeline"].who == "Client"
    assert rows["brand_direction"].who == "Agency (client is consulted)"
    assert rows["vendor_choice"].who == rows["daily_tasks"].who == "Agency"
    _, rows = rows_for(control_level=3, decisions_owned=["copy"])
    assert rows["copy"].who == "Jointly (client has the final say)"
    _, rows = rows_for(control_level=1, decisions_owned=[])
    assert {r.owner for r in rows.values()} == {"consulted", "agency"}


def test_daily_tasks_stay_with_the_agency_when_the_playbook_says_so():
    agreement, rows = rows_for(control_level=5, decisions_owned=["copy", "daily_tasks"])
    clause = next(c for c in agreement.clauses if c.id == "daily_tasks_with_agency")
    assert "project lead plans and assigns the team's daily work" in clause.text
    row = rows["daily_tasks"]
    assert row.owner == "weekly_priorities" and row.who.startswith("Agency")
    assert f"clause {clause.number}" in row.how
    assert rows["copy"].who == "Client"
    # Without that clause (another playbook set), the general rule applies.
    answers = dict(load("calm-founder"), control_level=5, decisions_owned=["daily_tasks"])
    clean, _ = get_questionnaire().validate(answers)
    plain = {r.area: r for r in decision_rows(clean, {}, get_questionnaire(), "X")}
    assert plain["daily_tasks"].who == "Client"


def test_decision_table_states_who_decides_and_the_clause_points_at_it(example):
    """Who decides what is said once: in the decision table (part of what they sign,
    each of the Client's rows saying its final say); "Who decides what" beside it points
    at the table and restates none of its rows."""
    _, _, agreement = example
    ids = ("decision_rights", "decision_rights_agency")
    clause = next(c for c in agreement.clauses if c.id in ids)
    assert clause.number.startswith(f"{agreement.decisions_section}.")  # the table's section
    assert "decision table above" in clause.text
    kept = [r for r in agreement.decisions if r.owner in ("client", "joint")]
    for row in kept:
        assert re.search(r"the Client (decides|has the final say)", row.how), row
        assert row.label.lower() not in clause.text.lower(), row.label  # said once
    assert "decisions" in agreement.content()  # the table is in what they sign
    assert all(r.who in WHO.values() for r in agreement.decisions)


def test_roadmap_is_the_schedule(example):
    answers, _, agreement = example
    roadmap = agreement.roadmap
    weeks = answers["timeline_weeks"]
    assert roadmap.weeks == weeks
    assert [(p.name, p.start_week, p.end_week) for p in roadmap.phases] == [
        (p.name, p.start_week, p.end_week) for p in schedule.phases(weeks)
    ]
    assert list(roadmap.review_weeks) == schedule.review_weeks(weeks)
    # Updates come at the agency's cadence (its profile, or this engagement's terms),
    # never simply at the rhythm the client asked for.
    agreed = agreement.terms["service_levels"]["update_cadence"]
    assert agreed == "weekly"  # the shipped profile's
    assert list(roadmap.update_weeks) == schedule.update_weeks(weeks, agreed)
    assert roadmap.cadence == schedule.CADENCE[agreed][1]


def test_parties_and_signatures(example):
    answers, _, agreement = example
    client, agency = agreement.parties
    assert (client.organisation, client.representative) == (
        answers["company"],
        answers["contact_name"],
    )
    assert agency.organisation == "Brightline Studio Ltd" and agency.defined_as == "the Agency"
    assert agency.trading_as == DEFAULT_AGENCY and client.defined_as == "the Client"
    assert (agency.representative, agency.title) == ("Alex Moreno", "Managing Director")
    assert agency.address and agency.company_number
    html = html_for(agreement)
    block = html[html.index('id="signatures"') :]
    assert f"For {answers['company']}" in block and "For Brightline Studio Ltd" in block
    assert block.count("signature__line--sign") == 2


# --- HTML: escaping, trace, links -------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "</style>",
    "<img src=file:///etc/passwd>",
]


def hostile_answers():
    answers = load("burned-marketer")
    q = get_questionnaire()
    for qid, question in q.questions.items():
        if question.type == "text" and qid not in ("contact_name",):
            answers[qid] = " ".join(HOSTILE)[: question.max_length]
    answers["contact_name"] = "<script>alert(1)</script>"
    return answers


def test_environment_autoescapes():
    assert environment().autoescape is True


def test_answers_are_escaped_text_never_markup():
    answers = hostile_answers()
    html = agreement_html(answers, assess(answers), date=DAY)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html
    assert "{{ 7*7 }}" in html  # shown as typed, never evaluated
    # The browser preview has no inline style at all (the CSP forbids it), and no
    # answer can add one.
    assert html.count("</style>") == 0 and html.count("<style>") == 0
    assert "&lt;/style&gt;" in html


def test_a_5000_character_clause_text_comes_out_whole_and_escaped():
    answers = load("calm-founder")
    long_text = ("<b>bold</b> {{ 7*7 }} & more " * 200)[:5000]
    assessment = {"clauses": [base_clause("long", "scope", long_text)], "playbook_version": "v"}
    agreement = compose(answers, assessment, date=DAY)
    html = html_for(agreement)
    escaped = " ".join(long_text.split()).replace("&", "&amp;").replace("<", "&lt;")
    escaped = escaped.replace(">", "&gt;")
    assert escaped in html
    assert "<b>" not in html


def test_roadmap_svg_escapes_and_describes_itself():
    answers = load("burned-marketer")
    agreement = compose(answers, assess(answers), date=DAY)
    svg = str(roadmap_svg(agreement.roadmap))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
    for phase in agreement.roadmap.phases:
        assert f">{phase.name}</text>" in svg  # named, not only coloured
    diamonds = re.search(r'<path class="roadmap__reviews" d="([^"]*)" fill=', svg).group(1)
    assert diamonds.count("Z") == len(agreement.roadmap.review_weeks)  # one per review
    assert "<line" not in svg and svg.count("<circle") <= 1  # paths, not a node per mark
    evil = replace(
        agreement.roadmap,
        phases=(replace(agreement.roadmap.phases[0], name="<script>x</script>"),),
        cadence='"><script>y</script>',
    )
    evil_svg = str(roadmap_svg(evil))
    assert "<script" not in evil_svg and "&lt;script&gt;x&lt;/script&gt;" in evil_svg


def test_preview_shows_traces_inline_and_links_the_stylesheet():
    answers = load("burned-marketer")
    assessment = assess(answers)
    html = agreement_html(answers, assessment, static_base="/static/", date=DAY)
    assert '<link rel="stylesheet" href="/static/agreement.css">' in html
    assert 'lang="en"' in html and "<title>Engagement agreement between" in html
    assert html.count('class="trace"') == len(assessment["clauses"])
    assert "Because you told us:" in html and "Standard clause" in html
    assert "How would you rate your past agency experience?" in html
    assert 'id="appendix"' not in html


def test_the_clients_copy_is_the_contract_alone_no_wish_no_quote_no_trace():
    answers = load("burned-marketer")
    agreement = compose(answers, assess(answers), date=DAY)
    html = html_for(agreement, static_base=None, paper="letter", trace="appendix")
    assert "<link" not in html and "@page { size: letter; }" in html
    assert 'class="trace"' not in html and 'id="appendix"' not in html
    # What the client asked for is answered in the proposal, not in the contract.
    assert 'id="asked"' not in html and agreement.asked == ()
    assert "asked for" not in html.lower() and "Because you told us" not in html
    assert " of 5" not in html
    # The client's free-text answers are never quoted (the goal, the worry, the tactics).
    for qid in ("primary_goal", "mandated_tactics", "biggest_worry", "past_experience_notes"):
        assert answers[qid][:30] not in html, qid
    # The reply wish (4 hours) never appears; the agreed level does.
    assert "four hours" not in html and "within one working day" in html
    assert agreement.sha256 in html and agreement.document_id in html
    assert f'<meta name="dcterms.created" content="{agreement.date}">' in html


def test_contents_when_long(example):
    """Issue 24: the examples fit the page budget (six pages) and have no contents; a
    document over it (here the same sections, each four times) has one."""
    _, _, agreement = example
    assert agreement.estimated_pages <= 7 and not agreement.has_contents
    assert 'class="contents"' not in html_for(agreement)
    long = replace(agreement, sections=agreement.sections * 4)
    html = html_for(long)
    assert long.has_contents and 'class="contents"' in html
    for section in agreement.sections:
        assert f'href="#{section.anchor}"' in html and f'id="{section.anchor}"' in html
    short = replace(agreement, sections=agreement.sections[:2], standard_sections=())
    assert short.estimated_pages <= 3 and 'class="contents"' not in html_for(short)


def test_bad_paper_and_trace_are_refused():
    answers = load("calm-founder")
    agreement = compose(answers, assess(answers), date=DAY)
    with pytest.raises(ValueError):
        html_for(agreement, paper="a3")
    with pytest.raises(ValueError):
        html_for(agreement, trace="everywhere")


def test_filename_names_company_and_date():
    answers = load("burned-marketer")
    agreement = compose(answers, assess(answers), date=DAY)
    assert filename_for(agreement) == "Agreement - Harbour Freight Logistics - 2026-11-27.pdf"
    answers = dict(answers, company='Acme/..\\ "Evil": <Co>?*|\n')
    agreement = compose(answers, assess(answers), date=DAY)
    name = filename_for(agreement)
    assert not set('/\\:*?"<>|\n') & set(name)
    assert name.startswith("Agreement - Acme") and name.endswith(" - 2026-11-27.pdf")
