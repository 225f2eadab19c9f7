"""The one query model for lists of intakes: filters, sort, pages, cursors (the search:
:mod:`.search`; the attention queue: :mod:`.attention`; the CSV: :mod:`.export`).

The workspace (dashboard, drafts, CSV export) and the API (``GET /api/v1/intakes``) both
parse their query parameters into :class:`Filters` and call this module, so a search,
a filter or a date range selects the same intakes wherever it is asked. Each caller
keeps its own dialect and policy for parameters: the workspace's :func:`parse_filters`
ignores (or clamps) a value it cannot use and names it in a sentence; the API refuses
it with a 422. The values themselves are checked by the same functions
(:func:`clean_search`, :func:`parse_day`, :data:`BANDS`, the statuses).

No Flask here: the functions read any mapping of parameters and run SQLAlchemy selects
on the session given. Pages come two ways from the same WHERE and ORDER BY: numbered
pages with counts (:func:`prospects_page`, the workspace) and keyset cursors
(:func:`cursor_page`, the API).

The workspace's query parameters (all optional, all GET, so a filtered view is a
shareable URL):

    q       search: a case-insensitive substring of the name, company or email
    band    strong | guarded | poor
    status  new | in_review | agreement_sent | accepted | declined | walked_away
    owner   a user id, or ``none`` for intakes nobody owns
    from    submitted on or after this day (YYYY-MM-DD, UTC)
    to      submitted on or before this day (YYYY-MM-DD, UTC)
    needs_attention
            1 (or true): only intakes awaiting the manager's answer to the prospect
            (:func:`attention_condition`)
    sort    name | company | submitted | score | band | risk | status | owner
    dir     asc | desc
    page    1, 2, ...
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, selectinload

from onboarding.db.models import Intake, User
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire
from onboarding.domain.text import MAX_ID
from onboarding.domain.workflow import STATUS_LABELS
from onboarding.rendering.figures import CAUSE_LABELS
from onboarding.services.intake.attention import attention_condition
from onboarding.services.intake.search import search_condition

BANDS = ("strong", "guarded", "poor")
STATUSES = tuple(STATUS_LABELS)
"""Every status a list may be narrowed to (``draft`` lists the drafts)."""
LIST_STATUSES = tuple(s for s in STATUSES if s != "draft")
"""The statuses of submitted intakes (the prospects list's choices)."""
NOBODY = "none"
MAX_SEARCH = 100

SORTS = {
    "name": "Prospect",
    "company": "Company",
    "submitted": "Submitted",
    "score": "Score",
    "band": "Band",
    "risk": "Top risk",
    "status": "Status",
    "owner": "Owner",
}
"""The workspace's sort keys -> the column heading each sorts."""

CURSOR_SORTS = {
    "submitted": "datetime",
    "created": "datetime",
    "updated": "datetime",
    "score": "int",
    "company": "str",
    "name": "str",
}
"""Sort keys a cursor can page through (one column each) -> the kind of its value."""

NEVER_NULL = {"created", "updated"}
"""Sort keys no intake lacks; the others are null on drafts (and only there)."""

FIRST_DIRECTION = {"submitted": "desc", "score": "desc", "band": "desc"}
"""The direction a column sorts in when first clicked (newest, best first); else asc."""

DEFAULT_SORT, DEFAULT_DIRECTION = "submitted", "desc"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
PAGE = re.compile(r"\d{1,9}", re.ASCII)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
DAY_FORMAT = "use YYYY-MM-DD, for example 2026-03-31"
DAY_RANGE = f"use a year from {FIRST_DAY.year} to {LAST_DAY.year}"


@dataclass(frozen=True)
class Filters:
    """What a list shows: filters, search, sort and page, parsed and valid.

    ``status`` None lists every submitted intake; ``draft`` lists the drafts (the API
    offers it; the workspace has a list of its own for them).
    """

    q: str = ""
    band: str | None = None
    status: str | None = None
    owner: int | str | None = None  # a user id, NOBODY, or None for anyone
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT
    direction: str = DEFAULT_DIRECTION
    page: int = 1
    needs_attention: bool = False  # only intakes awaiting the manager's answer

    @property
    def filtered(self) -> bool:
        """Whether any filter or search narrows the list."""
        narrowed = (self.q, self.band, self.status, self.date_from, self.date_to)
        return any(narrowed) or self.owner is not None or self.needs_attention

    def params(self, **changes: Any) -> dict[str, str]:
        """The workspace's query parameters of this view (defaults left out), with
        ``changes``.

        ``changes`` uses the field names (``page=2``, ``sort="score"``); a change to
        ``None`` resets that field to its default.
        """
        defaults = Filters()
        values = {
            name: (getattr(defaults, name) if value is None else value)
            for name, value in changes.items()
        }
        f = replace(self, **values)
        out: dict[str, str] = {}
        if f.q:
            out["q"] = f.q
        if f.band:
            out["band"] = f.band
        if f.status:
            out["status"] = f.status
        if f.owner is not None:
            out["owner"] = str(f.owner)
        if f.date_from:
            out["from"] = f.date_from.isoformat()
        if f.date_to:
            out["to"] = f.date_to.isoformat()
        if f.needs_attention:
            out["needs_attention"] = "1"
        if (f.sort, f.direction) != (DEFAULT_SORT, DEFAULT_DIRECTION):
            out["sort"], out["dir"] = f.sort, f.direction
        if f.page != 1:
            out["page"] = str(f.page)
        return out

    def filter_params(self) -> dict[str, str]:
        """Only the filters and search (what the CSV export takes)."""
        return self.params(sort=None, direction=None, page=None)

    def sort_params(self, key: str) -> dict[str, str]:
        """The parameters of a click on a column heading: toggle, or sort by it first."""
        if key == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
        else:
            direction = FIRST_DIRECTION.get(key, "asc")
        return self.params(sort=key, direction=direction, page=None)

    def aria_sort(self, key: str) -> str | None:
        """``ascending``/``descending`` for the column sorted by, else None."""
        if key != self.sort:
            return None
        return "ascending" if self.direction == "asc" else "descending"


# --- values: the checks every caller shares -------------------------------------------------


def clean_search(raw: str | None) -> str:
    """A search term as typed, trimmed, without NUL characters (length unchecked:
    see :data:`MAX_SEARCH`)."""
    return (raw or "").replace("\x00", "").strip()


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_flag(raw: str) -> bool:
    """A yes/no parameter: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/
    ``off``, in any case; ValueError for anything else."""
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("use true or false")


def parse_day(raw: str) -> date:
    """The day ``raw`` names (``YYYY-MM-DD``, years :data:`FIRST_DAY` to :data:`LAST_DAY`).

    Raises ValueError with :data:`DAY_FORMAT` or :data:`DAY_RANGE` (what to do instead).
    """
    if not DATE.fullmatch(raw):
        raise ValueError(DAY_FORMAT)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(DAY_FORMAT) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(DAY_RANGE)
    return day


# --- the workspace's parameters ---------------------------------------------------------------


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(args: Mapping[str, Any], name: str, problems: list[str]) -> date | None:
    raw = _text(args, name)
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        problems.append(f"Ignored the date '{name}': {exc}.")
        return None


def parse_filters(
    args: Mapping[str, Any], owner_ids: Collection[int] | None = None
) -> tuple[Filters, list[str]]:
    """Filters from the workspace's query parameters, and a sentence for each value
    ignored.

    ``owner_ids``: the user ids an ``owner`` may name (None accepts any number).
    Never raises: unknown or malformed values are dropped and reported.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}

    q = clean_search(_text(args, "q"))
    if len(q) > MAX_SEARCH:
        q = q[:MAX_SEARCH].rstrip()
        problems.append(f"Shortened the search to its first {MAX_SEARCH} characters.")
    values["q"] = q

    band = _text(args, "band")
    if band in BANDS:
        values["band"] = band
    elif band:
        problems.append(f"Ignored the band: use one of {', '.join(BANDS)}.")

    status = _text(args, "status")
    if status in LIST_STATUSES:
        values["status"] = status
    elif status:
        problems.append(f"Ignored the status: use one of {', '.join(LIST_STATUSES)}.")

    owner = _text(args, "owner")
    if owner == NOBODY:
        values["owner"] = NOBODY
    elif owner:
        number = int(owner) if PAGE.fullmatch(owner) else None
        if number is not None and (owner_ids is None or number in owner_ids):
            values["owner"] = number
        else:
            problems.append("Ignored the owner: no such user.")

    attention = _text(args, "needs_attention")
    if attention:
        try:
            values["needs_attention"] = parse_flag(attention)
        except ValueError:
            problems.append("Ignored 'needs_attention': use 1 to show only those, or leave it out.")

    values["date_from"] = _date(args, "from", problems)
    values["date_to"] = _date(args, "to", problems)
    if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
        values["date_from"], values["date_to"] = values["date_to"], values["date_from"]
        problems.append("Swapped the dates: 'from' was after 'to'.")

    sort = _text(args, "sort")
    direction = _text(args, "dir")
    if sort in SORTS:
        values["sort"] = sort
        values["direction"] = FIRST_DIRECTION.get(sort, "asc")
    elif sort:
        problems.append(f"Ignored the sort '{sort[:30]}': sort by one of {', '.join(SORTS)}.")
    if direction in ("asc", "desc"):
        values["direction"] = direction
    elif direction:
        problems.append("Ignored the direction 'dir': use asc or desc.")

    page = _text(args, "page")
    if page:
        if PAGE.fullmatch(page) and int(page) >= 1:
            values["page"] = int(page)
        else:
            problems.append("Ignored the page number 'page': showing page 1.")
    return Filters(**values), problems


# --- queries -----------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def conditions(f: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``f``: submitted intakes (or drafts, for ``status=draft``)."""
    where = [Intake.status == f.status] if f.status else [Intake.status != "draft"]
    if f.band:
        where.append(Intake.band == f.band)
    if f.owner == NOBODY:
        where.append(Intake.owner_id.is_(None))
    elif f.owner is not None:
        where.append(Intake.owner_id == f.owner)
    if f.date_from:
        where.append(Intake.submitted_at >= day_start(f.date_from))
    if f.date_to:
        where.append(Intake.submitted_at < day_start(f.date_to + timedelta(days=1)))
    if f.q:
        where.append(search_condition(f.q))
    if f.needs_attention:
        where.append(attention_condition())
    return where


def _rank(column, order: Sequence[str]) -> ColumnElement[int]:
    """``column``'s position in ``order`` (unknown values and NULL last)."""
    return case({value: i for i, value in enumerate(order)}, value=column, else_=len(order))


COLUMNS = {
    "name": Intake.contact_name,
    "company": Intake.company,
    "submitted": Intake.submitted_at,
    "created": Intake.created_at,
    "updated": Intake.updated_at,
    "score": Intake.score,
}
"""Sort keys that sort by one column -> the column."""


def sort_key(f: Filters, owners: Sequence[User] = ()) -> ColumnElement[Any]:
    """The expression ``f`` sorts by.

    Top risk sorts by its label, status in workflow order, owner by display name with
    intakes nobody owns after every owner (last ascending, first descending).
    """
    if f.sort in COLUMNS:
        return COLUMNS[f.sort]
    if f.sort == "band":
        # The band as stored (a concentrated risk caps it; it is never derived from the
        # score), then the score within the band: strong first when descending.
        rank = case({"poor": 0, "guarded": 1, "strong": 2}, value=Intake.band, else_=-1)
        return rank * 1000 + func.coalesce(Intake.score, 0)
    if f.sort == "risk":
        return _rank(Intake.top_risk, sorted(CAUSE_LABELS, key=lambda c: CAUSE_LABELS[c]))
    if f.sort == "status":
        return _rank(Intake.status, LIST_STATUSES)
    if f.sort == "owner":
        ranked = sorted(owners, key=lambda u: (u.display_name.lower(), u.id))
        if ranked:
            positions = {u.id: i for i, u in enumerate(ranked)}
            return case(positions, value=Intake.owner_id, else_=len(ranked))
        return Intake.owner_id  # nobody to own anything: every owner is NULL
    raise ValueError(f"unknown sort key {f.sort!r}")


def nulls_last(f: Filters) -> bool:
    """Whether ``f``'s sort key may be null in its list (drafts lack most of them):
    those rows then come last, either way."""
    return f.status == "draft" and f.sort not in NEVER_NULL


def sort_columns(f: Filters, owners: Sequence[User] = ()) -> list[ColumnElement[Any]]:
    """ORDER BY for ``f``: the sort key, then the id in the same direction (stable)."""
    key = sort_key(f, owners)
    order: list[ColumnElement[Any]] = []
    if nulls_last(f):
        order.append(case((key.is_(None), 1), else_=0))
    if f.direction == "asc":
        return [*order, key.asc(), Intake.id.asc()]
    return [*order, key.desc(), Intake.id.desc()]


LIST_COLUMNS = (
    Intake.id,
    Intake.public_id,
    Intake.contact_name,
    Intake.contact_email,
    Intake.company,
    Intake.submitted_at,
    Intake.score,
    Intake.override_score,
    Intake.band,
    Intake.band_note,
    Intake.override_band,
    Intake.top_risk,
    Intake.status,
    Intake.owner_id,
    attention_condition().label("needs_attention"),
)


@dataclass
class Page:
    """One page of a list, with the total and, for prospects, the count per band."""

    rows: list[Any]
    total: int
    number: int
    pages: int
    per_page: int
    bands: dict[str, int] = field(default_factory=dict)

    @property
    def first(self) -> int:
        """The position of the first row shown (1-based; 0 when empty)."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


def _clamp(f: Filters, total: int, per_page: int, problems: list[str]) -> tuple[int, int]:
    pages = max(1, math.ceil(total / per_page))
    if f.page > pages:
        problems.append(
            f"There is no page {f.page} of these results: showing page {pages}, the last."
        )
        return pages, pages
    return f.page, pages


def _page_of(
    session: Session,
    where: list[ColumnElement[bool]],
    order: list[ColumnElement[Any]],
    number: int,
    per_page: int,
    columns: Sequence[Any],
) -> list[Any]:
    """The rows of one page. Deep pages skip rows on the narrow id-only query first
    (a covering index walk), then read the full rows of that page by id."""
    offset = (number - 1) * per_page
    ids = select(Intake.id).where(*where).order_by(*order).limit(per_page).offset(offset)
    query = select(*columns).where(Intake.id.in_(ids.scalar_subquery())).order_by(*order)
    return list(session.execute(query).all())


def _band_counts(session: Session, where: list[ColumnElement[bool]]) -> dict[Any, int]:
    query = select(Intake.band, func.count()).where(*where).group_by(Intake.band)
    return dict(session.execute(query).all())


def _searched_page(
    session: Session,
    where: list[ColumnElement[bool]],
    order: list[ColumnElement[Any]],
    number: int,
    per_page: int,
) -> Page | None:
    """A page of search results with its counts, in one pass (window aggregates).

    A substring search reads every candidate row whatever the page, so counting in the
    same scan halves the work. None when the page is past the end (no rows to carry
    the counts): the caller counts, clamps and asks again.
    """
    totals = [func.count().over().label("total")] + [
        func.sum(case((Intake.band == band, 1), else_=0)).over().label(f"n_{band}")
        for band in BANDS
    ]
    inner = (
        select(Intake.id.label("id"), *totals)
        .where(*where)
        .order_by(*order)
        .limit(per_page)
        .offset((number - 1) * per_page)
        .subquery()
    )
    extra = [inner.c.total, *(inner.c[f"n_{band}"] for band in BANDS)]
    query = select(*LIST_COLUMNS, *extra).join(inner, inner.c.id == Intake.id).order_by(*order)
    rows = list(session.execute(query).all())
    if not rows:
        if number > 1:
            return None
        return Page([], 0, 1, 1, per_page, dict.fromkeys(BANDS, 0))
    total = rows[0].total
    bands = {band: int(getattr(rows[0], f"n_{band}") or 0) for band in BANDS}
    return Page(rows, total, number, max(1, math.ceil(total / per_page)), per_page, bands)


def prospects_page(
    session: Session, f: Filters, per_page: int, owners: Sequence[User] = ()
) -> tuple[Page, list[str]]:
    """The page of submitted intakes ``f`` asks for, and notes on a page out of range.

    Two queries: the count per band (an index-only scan), then the ids of the page
    (walking the index of the sort column where there is one) joined back to their
    rows. A search does both in one pass instead (see :func:`_searched_page`).
    """
    problems: list[str] = []
    where = conditions(f)
    order = sort_columns(f, owners)
    if f.q:
        page = _searched_page(session, where, order, f.page, per_page)
        if page is not None:
            return page, problems
    counts = _band_counts(session, where)
    total = sum(counts.values())
    number, pages = _clamp(f, total, per_page, problems)
    rows = _page_of(session, where, order, number, per_page, LIST_COLUMNS)
    bands = {band: counts.get(band, 0) for band in BANDS}
    return Page(rows, total, number, pages, per_page, bands), problems


DRAFT_COLUMNS = (
    Intake.id,
    Intake.public_id,
    Intake.token,  # the resume link a manager copies or emails again
    Intake.contact_name,
    Intake.contact_email,
    Intake.company,
    Intake.current_step,
    Intake.created_at,
    Intake.updated_at,
    Intake.owner_id,
)


def drafts_page(session: Session, f: Filters, per_page: int) -> tuple[Page, list[str]]:
    """Intakes still being filled in, last saved first; searchable (``f.q``), paginated."""
    problems: list[str] = []
    drafts = Filters(q=f.q, status="draft", sort="updated", direction="desc", page=f.page)
    where = conditions(drafts)
    total = session.execute(select(func.count()).select_from(Intake).where(*where)).scalar_one()
    number, pages = _clamp(drafts, total, per_page, problems)
    order = sort_columns(drafts)
    rows = _page_of(session, where, order, number, per_page, DRAFT_COLUMNS)
    return Page(rows, total, number, pages, per_page), problems


# --- cursor pages (keyset) --------------------------------------------------------------------


@dataclass
class CursorPage:
    """Up to ``limit`` intakes (owners loaded) and where the next page starts: the sort
    key's value and the id of the last one, or None on the last page."""

    items: list[Intake]
    after: tuple[Any, int] | None


def keyset_after(column, value: Any, row_id: int, descending: bool, nullable: bool):
    """The rows after ``(value, row_id)`` in the list's order (nulls last)."""
    ident = literal(row_id, Integer)
    if value is None:  # in the trailing block of nulls: only ids further on
        return and_(column.is_(None), Intake.id < ident if descending else Intake.id > ident)
    bound = literal(value, column.type)
    pair, mark = tuple_(column, Intake.id), tuple_(bound, ident)
    after = pair < mark if descending else pair > mark
    return or_(after, column.is_(None)) if nullable else after


def cursor_page(
    session: Session, f: Filters, limit: int, after: tuple[Any, int] | None = None
) -> CursorPage:
    """The ``limit`` intakes ``f`` selects after the position ``after`` (a previous
    page's ``after``; None for the first page), cut by the sort key and the id, not by
    offset: walking every page returns each intake exactly once, even while intakes
    are added. ``f.sort`` must be one of :data:`CURSOR_SORTS`; ``f.page`` is unused.
    """
    if f.sort not in CURSOR_SORTS:
        raise ValueError(f"cannot page through {f.sort!r} with a cursor")
    column = COLUMNS[f.sort]
    where = conditions(f)
    if after is not None:
        value, row_id = after
        where.append(keyset_after(column, value, row_id, f.direction == "desc", nulls_last(f)))
    rows = session.execute(
        select(Intake)
        .where(*where)
        .options(selectinload(Intake.owner))
        .order_by(*sort_columns(f))
        .limit(limit + 1)
    ).scalars().all()  # fmt: skip
    items = list(rows[:limit])
    if len(rows) <= limit:
        return CursorPage(items, None)
    last = items[-1]
    return CursorPage(items, (getattr(last, column.key), last.id))


def encode_cursor(tag: str, after: tuple[Any, int]) -> str:
    """An opaque cursor for the position ``after``, made for the order ``tag`` names
    (the caller's sort parameter: a cursor is refused for another)."""
    value, row_id = after
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    raw = json.dumps({"s": tag, "v": value, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str, sort: str) -> tuple[Any, int]:
    """The position of a cursor made for the order ``tag`` (sorting by ``sort``, one of
    :data:`CURSOR_SORTS`); ValueError if it is not one."""
    if len(cursor) > 500:
        raise ValueError("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValueError("not a cursor") from None
    if not isinstance(data, dict) or data.get("s") != tag:
        raise ValueError("made for another sort order")
    row_id, value = data.get("i"), data.get("v")
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 <= row_id <= MAX_ID:
        raise ValueError("no position")
    kind = CURSOR_SORTS[sort]
    if value is not None:
        if kind == "datetime":
            if not isinstance(value, str):
                raise ValueError("bad value")
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("bad value")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
                raise ValueError("bad value")
        elif not isinstance(value, str):
            raise ValueError("bad value")
    return value, row_id


def step_title(step: str | None, questionnaire: Questionnaire | None = None) -> str:
    """The title of the section a draft last saved, or ``not started``."""
    if not step:
        return "not started"
    try:
        return (questionnaire or get_questionnaire()).section(step).title
    except KeyError:
        return step
