"""What happened, said once: the use cases announce it, the side effects subscribe.

A use case changes the rows and then :func:`announce`\\ s one of the signals below
(``agreement_sent``, ``changes_requested``, ...), the intake as the sender and what
else the subscribers need as keywords. It never calls the mail, the webhooks or the
render queue itself. Those connect to the signals once, when the app starts
(:func:`onboarding.app.register_subscribers`):

- :mod:`onboarding.services.notify.webhooks` fires the webhook events (the signals
  whose name is one of :data:`onboarding.integrations.webhooks.EVENTS`);
- :mod:`onboarding.services.notify.mail` writes the emails;
- :mod:`onboarding.services.agreement.prerender` queues the background renders.

Every subscriber runs in the announcer's transaction, in the order they connected:
what they write is stored (and sent after the commit) with the use case's changes, or
not at all. A signal nobody subscribes to raises :class:`Unheard`: an effect that was
forgotten is an error, never silence. Plain blinker signals (what Flask's own signals
are), so this module stays free of Flask.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal, Namespace

__all__ = ["SIGNALS", "Unheard", "announce"]

_space = Namespace()

intake_saved = _space.signal("intake.saved", doc="A draft's step was saved (kw: none)")
intake_submitted = _space.signal(
    "intake.submitted",
    doc="An intake was submitted and assessed (kw: ``email``: False for the demo data)",
)
intake_assessed = _space.signal("intake.assessed", doc="An assessment was stored (kw: none)")
status_changed = _space.signal(
    "intake.status_changed", doc="An intake moved along the workflow (kw: ``previous_status``)"
)
profile_saved = _space.signal("profile.saved", doc="A new agency profile version (sender None)")
terms_saved = _space.signal("terms.saved", doc="An engagement's terms were saved (kw: none)")
agreement_sent = _space.signal("agreement.sent", doc="A new version was sent (kw: ``version``)")
link_resent = _space.signal(
    "agreement.link_resent", doc="The current version's link was sent again (kw: ``version``)"
)
changes_requested = _space.signal(
    "agreement.changes_requested",
    doc="The prospect asked for changes (kw: ``version``, ``comment``)",
)
agreement_accepted = _space.signal(
    "agreement.accepted", doc="The prospect accepted a version (kw: ``version``)"
)
agreement_signed = _space.signal(
    "agreement.signed", doc="The agency countersigned a version (kw: ``version``)"
)
invite_created = _space.signal(
    "invite.created", doc="Staff made an invite link (sender None; kw: ``invite``)"
)
manager_replied = _space.signal(
    "agreement.manager_replied",
    doc="Staff replied in the agreement thread (kw: ``version``, ``text``, ``author``)",
)
file_issued = _space.signal(
    "agreement.file_issued",
    doc="The accepted or signed PDF was stored (kw: ``version``, ``kind``, ``pdf``)",
)
project_update_posted = _space.signal(
    "project.update_posted", doc="The manager posted a project update (kw: ``project``, ``entry``)"
)
project_milestone_moved = _space.signal(
    "project.milestone_moved",
    doc="A milestone moved from its agreed date, with a reason (kw: ``project``, ``entry``)",
)
project_signoff_requested = _space.signal(
    "project.signoff_requested",
    doc="The manager asked the client to sign off a milestone (kw: ``project``, ``entry``)",
)
project_signed_off = _space.signal(
    "project.signed_off",
    doc="The client signed off a milestone or asked for a revision (kw: ``project``, ``entry``)",
)

SIGNALS: tuple[NamedSignal, ...] = (
    intake_saved,
    intake_submitted,
    intake_assessed,
    status_changed,
    profile_saved,
    terms_saved,
    agreement_sent,
    link_resent,
    changes_requested,
    agreement_accepted,
    agreement_signed,
    file_issued,
    project_update_posted,
    project_milestone_moved,
    project_signoff_requested,
    project_signed_off,
    manager_replied,
    invite_created,
)


class Unheard(RuntimeError):
    """A signal was announced that nobody subscribes to (the subscribers connect when
    the app starts: :func:`onboarding.app.register_subscribers`)."""


def announce(signal: NamedSignal, sender: Any, **details: Any) -> None:
    """Tell ``signal``'s subscribers what happened to ``sender`` (an Intake, or None),
    in the caller's transaction. Raises :class:`Unheard` when nobody subscribes."""
    if not signal.receivers:
        raise Unheard(f"nobody subscribes to {signal.name!r}: connect the subscribers first")
    signal.send(sender, **details)
