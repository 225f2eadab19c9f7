"""The project operations' request and response models (issue 30)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from onboarding.domain.project import STATES
from onboarding.web.api.schema import Model, StrictModel

NO_NUL = r"^[^\u0000]*$"  # PostgreSQL refuses NUL in text

State = Literal[tuple(STATES)]  # type: ignore[valid-type]


class MilestoneOut(Model):
    id: str = Field(description="The milestone's id in this plan (`m1`, `m2`, ...).")
    name: str
    deliverable: str
    agreed_start: date
    agreed_date: date = Field(description="The date the agreement set.")
    due: date = Field(description="The date it is now due (the agreed one unless moved).")
    moved: bool
    reason: str = Field(description="Why it moved, as the client reads it (empty if not).")
    state: State
    at_risk: bool = Field(description="Now due after the date the agreement fixed.")


class DecisionOut(Model):
    text: str
    area: str = Field(description="An area of the agreement's decision table, or empty.")
    by: Literal["agency", "client"]
    at: datetime
    outside_table: bool = Field(
        description="The table gives the area to the agency and the client took it."
    )


class UpdateOut(Model):
    id: int
    posted_at: datetime
    done: str
    next: str
    needs: str
    decisions: list[DecisionOut]


class SignOffOut(Model):
    id: int
    milestone: str
    requested_at: datetime
    note: str
    state: Literal["waiting", "approved", "revision", "accepted"] = Field(
        description="`accepted`: nothing was said within the review window."
    )
    accepted_on: date = Field(description="When silence counts as acceptance.")
    comment: str
    extra_round: str = Field(description="The price of a round beyond those included, if taken.")


class RoundsOut(Model):
    milestone: str
    included: int
    used: int


class ProjectOut(Model):
    """The project a countersigned agreement started."""

    start: date
    fixed_date: date | None = Field(description="The launch date the agreement fixed.")
    cadence: str = Field(description="The agreed update cadence.")
    next_update_due: date | None
    update_overdue: bool
    acceptance_days: int
    milestones: list[MilestoneOut]
    updates: list[UpdateOut]
    signoffs: list[SignOffOut]
    rounds: list[RoundsOut]


class DecisionIn(StrictModel):
    text: str = Field(max_length=4000, pattern=NO_NUL)
    area: str = Field("", max_length=40, pattern=NO_NUL)
    by: Literal["agency", "client"] = "agency"


class UpdateIn(StrictModel):
    """A project update; the client is emailed it."""

    done: str = Field(max_length=4000, pattern=NO_NUL)
    next: str = Field(max_length=4000, pattern=NO_NUL)
    needs: str = Field("", max_length=4000, pattern=NO_NUL)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=20)


class MilestonePatch(StrictModel):
    """A milestone's new state, or a move: a new date and the reason the client reads."""

    state: State | None = None
    due: str | None = Field(
        None, max_length=10, pattern=NO_NUL, json_schema_extra={"format": "date"},
        description="The new date, YYYY-MM-DD (from the start to 2099).",
    )  # fmt: skip
    reason: str = Field("", max_length=4000, pattern=NO_NUL)
