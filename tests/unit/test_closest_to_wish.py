"""An option offered for a wish it only partly meets says it is the most the agency
offers (``wishes.closest_to_wish``); one that meets the wish says nothing more."""

from decimal import Decimal

import pytest

from onboarding.domain.options import RateOption
from onboarding.domain.wishes import closest_to_wish


def option(**kw):
    return RateOption(
        id=kw.pop("id", "x"), title="X", description="", amount=Decimal("1"),
        per=kw.pop("per", "month"), **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("wish", "sets", "said"),
    [
        ("1", 4, "This is the fastest reply we offer."),
        ("4", 4, ""),
        ("1", 1, ""),
        ("24", 4, ""),
    ],
)
def test_reply_time(wish, sets, said):
    opt = option(sets={"response_hours": sets})
    assert closest_to_wish(opt, {"expected_response_hours": wish}, {}) == said


@pytest.mark.parametrize(
    ("wish", "sets", "said"),
    [
        ("daily", "weekly", "These are the most frequent updates we offer."),
        ("daily", "few_per_week", "These are the most frequent updates we offer."),
        ("daily", "daily", ""),
        ("weekly", "daily", ""),
    ],
)
def test_update_cadence(wish, sets, said):
    opt = option(sets={"update_cadence": sets})
    assert closest_to_wish(opt, {"update_frequency": wish}, {}) == said


def test_revision_rounds_count_the_included_ones():
    rounds = option(per="unit", unit="round", max_quantity=6)
    levels = {"revision_rounds": 2}
    assert closest_to_wish(rounds, {"revision_rounds": 8}, levels) == ""
    assert closest_to_wish(rounds, {"revision_rounds": 9}, levels) == (
        "With the two rounds the fee includes, that makes up to eight rounds per "
        "deliverable, the most we offer."
    )
    assert closest_to_wish(rounds, {"revision_rounds": 9}, {"revision_rounds": 0}) == (
        "Up to six rounds per deliverable is the most we offer."
    )
    # an option of another unit answers no rounds wish
    workshops = option(per="unit", unit="workshop", max_quantity=1)
    assert closest_to_wish(workshops, {"revision_rounds": 9}, levels) == ""
