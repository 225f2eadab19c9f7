"""Worst-case data for the every-page browser tests: the longest names, emails and
companies the forms accept, in every state a page can show.

:func:`seed` fills the database and returns the pages of both sides to visit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake, User
from onboarding.db.outbox import DraftReminder, OutboxMessage
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.integrations import webhooks
from onboarding.services.agreement import answers as agreement_answers
from onboarding.services.agreement import send
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.intake import workspace
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.notify import mail
from onboarding.services.people import api_tokens
from onboarding.services.people.accounts import create_user, set_signing
from onboarding.web.extensions import app_playbooks
from tests.factories import example
from tests.web.helpers import make_sendable, revise, writing

PASSWORD = "a long pass phrase 42"

# A 64-character local part and a domain of 63-character labels: 251 characters.
LONG_EMAIL = (
    "bartholomew.featherstonehaugh-cholmondeley.marjoribanks.wemyss1"
    + "@"
    + "procurement-and-strategic-communications-department-of-the-lond"
    + "."
    + "international-maritime-freight-and-logistics-consortium-holding"
    + ".example.co.uk"
)
LONG_NAME = (
    "Maximiliana Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh Cholmondeley "
    "Marjoribanks-Wemyss de la Tour d'Auvergne"
)[:120]
LONG_COMPANY = (
    "Harbour Freight Logistics International Maritime Containerisation and Intermodal "
    "Transportation Holdings (Europe, Middle East and Africa) Limited Partnership"
)[:160]
LONG_WORD_GOAL = (
    "Double the qualified leads from our website within six months while keeping the "
    "cost per lead under forty pounds, and make the brand recognisable to procurement "
    "teams at the top fifty freight forwarders in Europe. "
) * 3


@dataclass
class Seeded:
    admin_email: str
    pages: dict[str, str]  # name -> path
    public_pages: dict[str, str]


def _long(answers: dict, **extra) -> dict:
    return answers | {
        "contact_name": LONG_NAME,
        "contact_email": LONG_EMAIL,
        "company": LONG_COMPANY,
        "role": "Senior Vice-President, Procurement and Strategic Communications (EMEA)",
        **extra,
    }


def seed(app) -> Seeded:
    """Everything the pages can show, at its longest."""
    with writing(app):
        agreement_terms.seed_profile(app.config["AGENCY_NAME"])
        admin, _ = create_user(LONG_EMAIL, "admin", PASSWORD, LONG_NAME, settings=app.config)
        db.session.flush()
        set_signing(admin, admin, can_sign=True, title="Managing Director", name=LONG_NAME)
        manager, _ = create_user(
            "sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config
        )

        # A submitted intake under review: override, note, a ticked action, an owner.
        reviewed = create_intake(
            _long(example("burned-marketer"), primary_goal=LONG_WORD_GOAL[:500])
        )
        db.session.flush()
        submit_intake(reviewed, playbooks=app_playbooks(app))
        workspace.change_status(reviewed, "in_review", admin, by_hand=True)
        workspace.set_override(
            reviewed, admin, "55", "proceed_with_guardrails", LONG_WORD_GOAL[:900], "guarded"
        )
        workspace.add_note(reviewed, admin, LONG_WORD_GOAL)
        first_action = reviewed.assessment.result["actions"][0]["id"]
        workspace.set_action(reviewed, admin, first_action, True)
        workspace.assign_owner(reviewed, admin, admin)

        # One to walk away from (the decline page).
        walk = create_intake(_long(example("hands-on-director")))
        db.session.flush()
        submit_intake(walk, playbooks=app_playbooks(app))

        # One whose agreement was sent twice (the signing page, the changes page).
        sent = create_intake(_long(example("calm-founder")))
        db.session.flush()
        submit_intake(sent, playbooks=app_playbooks(app))
        sent.owner_id = admin.id

        # A draft with the longest contact details, and the stop-reminders page.
        draft = create_intake(
            {"contact_name": LONG_NAME, "contact_email": LONG_EMAIL, "company": LONG_COMPANY}
        )
        draft.current_step = "about"
        db.session.flush()
        mail.email_resume_link(draft)

        invite = workspace.create_invite(
            admin, LONG_NAME, LONG_EMAIL, LONG_COMPANY, LONG_WORD_GOAL, 30
        )
        gone = workspace.create_invite(admin, LONG_NAME, LONG_EMAIL, LONG_COMPANY, None, 30)
        db.session.flush()
        workspace.revoke_invite(gone, admin)
        api_tokens.create_token(
            "Website contact form on the marketing site (production) " + "x" * 23, admin
        )
        url = "https://127.0.0.1:8443/" + "webhooks/onboarding/" * 8 + "?token=" + "a" * 60
        webhooks.create_endpoint(
            url, ["intake.submitted"], "The CRM's receiver " * 10, admin, allow_private=True
        )
        db.session.commit()
        ids = {
            "reviewed": reviewed.public_id,
            "walk": walk.public_id,
            "sent": sent.public_id,
            "draft": draft.token,
            "invite": invite.token,
            "gone": gone.token,
            "submitted_token": reviewed.token,
        }
    make_sendable(app, ids["sent"], "calm-founder")
    make_sendable(app, ids["reviewed"], "burned-marketer")
    with writing(app):
        intake = workspace.intake_by_public_id(ids["sent"])
        admin = db.session.execute(select(User).where(User.role == "admin")).scalar_one()
        first = send.send_agreement(intake, admin)
        db.session.flush()
        agreement_answers.record_change_request(first, LONG_WORD_GOAL[:600])
        agreement_answers.add_manager_message(intake, admin, LONG_WORD_GOAL[:400])
        db.session.commit()
        first_token = first.token  # version 1, replaced by version 2: a link forward
    revise(app, ids["sent"])
    with writing(app):
        intake = workspace.intake_by_public_id(ids["sent"])
        admin = db.session.execute(select(User).where(User.role == "admin")).scalar_one()
        sign_token = send.send_agreement(intake, admin).token
        db.session.commit()
        message_id = db.session.execute(select(OutboxMessage.id).limit(1)).scalar_one()
        draft = db.session.execute(select(Intake).where(Intake.token == ids["draft"])).scalar_one()
        reminder = DraftReminder(intake_id=draft.id, stop_token="stop-" + ids["draft"][:40])
        db.session.add(reminder)
        db.session.commit()
        stop = reminder.stop_token

    w = "/workspace"
    pages = {
        "dashboard": f"{w}/",
        "attention": f"{w}/?needs_attention=1",
        "drafts": f"{w}/drafts",
        "detail": f"{w}/intakes/{ids['reviewed']}",
        "detail-sent": f"{w}/intakes/{ids['sent']}",
        "detail-walk": f"{w}/intakes/{ids['walk']}",
        "terms": f"{w}/intakes/{ids['reviewed']}/terms",
        "decline": f"{w}/intakes/{ids['walk']}/decline",
        "preview": f"{w}/intakes/{ids['reviewed']}/agreement",
        "changes": f"{w}/intakes/{ids['sent']}/versions/2/changes",
        "agency": f"{w}/agency",
        "invites": f"{w}/invites",
        "users": f"{w}/users",
        "api": f"{w}/api",
        "webhooks": f"{w}/webhooks",
        "outbox": f"{w}/outbox",
        "outbox-message": f"{w}/outbox/{message_id}",
        "verify": f"{w}/verify",
        "reassess": f"{w}/reassess",
        "outcomes": f"{w}/outcomes",
        "account": f"{w}/account",
    }
    # The send pages (issue 26): a first version, and a client to walk away from.
    pages["send"] = f"{w}/intakes/{ids['reviewed']}/agreement/send"
    pages["send-walk"] = f"{w}/intakes/{ids['walk']}/agreement/send"
    public = {
        "start": "/start",
        "login": "/login",
        "invite": f"/invite/{ids['invite']}",
        "invite-gone": f"/invite/{ids['gone']}",
        **{
            f"step-{s.id}": f"/intake/{ids['draft']}/step/{s.id}"
            for s in get_questionnaire().sections
        },
        "review": f"/intake/{ids['draft']}/review",
        "thanks": f"/intake/{ids['submitted_token']}/thanks",
        "signing": f"/agreement/{sign_token}",
        "not-found": "/intake/no-such-token",
        "api-docs": "/api/docs",
    }
    public["stop-reminders"] = f"/intake/stop-reminders/{stop}"
    # --- ux2 --- (issue 26: the security log, a clause's comment form, a superseded version)
    pages["security"] = f"{w}/security"
    public["signing-comment"] = f"/agreement/{sign_token}/comment?clause=1.1"
    public["signing-old"] = f"/agreement/{first_token}"
    return Seeded(admin_email=LONG_EMAIL, pages=pages, public_pages=public)
