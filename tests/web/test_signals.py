"""What the use cases announce reaches its subscribers, and an announcement nobody hears
is an error, never silence (issue 22)."""

from __future__ import annotations

import pytest
from blinker import Namespace

from onboarding.services import signals


def test_every_signal_has_a_subscriber_once_the_app_has_started(app):
    unheard = [s.name for s in signals.SIGNALS if not s.receivers]
    assert unheard == []


def test_an_announcement_nobody_subscribes_to_fails():
    forgotten = Namespace().signal("agreement.forgotten")
    with pytest.raises(signals.Unheard, match="agreement.forgotten"):
        signals.announce(forgotten, None)


def test_a_use_case_whose_effect_was_disconnected_fails_instead_of_going_quiet(app):
    signal = signals.link_resent  # only the email subscribes to it
    subscribed = list(signal.receivers.values())  # connected strongly: the functions
    for receiver in subscribed:
        signal.disconnect(receiver)
    try:
        with app.app_context(), pytest.raises(signals.Unheard, match="agreement.link_resent"):
            signals.announce(signal, None, version=None)
    finally:
        for receiver in subscribed:
            signal.connect(receiver, weak=False)
    assert len(signal.receivers) == len(subscribed)
