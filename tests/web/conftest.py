"""Fixtures of the web tests (``staff``, ``submitted`` and ``sent`` are the root's)."""

from __future__ import annotations

import random

import pytest

from onboarding.db import db
from onboarding.services.intake import workspace
from tests.factories import STAND_IN, add_intake, answer, login, send_version
from tests.web.helpers import make_sendable


@pytest.fixture
def two(app, client, staff, submitted):
    """The burned marketer with an agreement sent, and a quiet prospect beside them."""
    with app.app_context():
        add_intake(random.Random(3), "Quentin Quiet", "Quiet Co", "q@quiet.example")
        db.session.commit()
    make_sendable(app, submitted)
    token = send_version(app, submitted)
    login(client, staff["manager"])
    with app.app_context():
        name = workspace.intake_by_public_id(submitted).contact_name
    return {"public_id": submitted, "token": token, "name": name}


@pytest.fixture
def accepted(app, sent):
    """The sent agreement, accepted by a stand-in signer (a title, authority confirmed)."""
    _, response = answer(app, f"/agreement/{sent['token']}/accept", STAND_IN)
    assert response.status_code == 302
    return sent


# --- project ---


@pytest.fixture
def signed(app, client, accepted):
    """The accepted agreement, countersigned by its manager (given signing rights):
    the prospect's token and the intake's public id."""
    from tests.factories import countersign, grant

    grant(app, "manager@example.com")
    assert countersign(client, accepted["public_id"]).status_code == 302
    return accepted
