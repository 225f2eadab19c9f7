"""The prospect's intake: one page per section, a review page, submit, thank you.

The resume token in the URL is the prospect's key: every view looks the intake up by
it (404 for an unknown token) and reaches nothing else.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake
from onboarding.domain import rules
from onboarding.domain.questionnaire import FieldError, Question, Section, get_questionnaire
from onboarding.services.agreement.versions import latest_version
from onboarding.services.intake.submission import (
    intake_by_token,
    keep_answers,
    resume_lapsed,
    save_step,
    step_draft,
    submit_by_token,
)
from onboarding.services.notify import mail, reminders
from onboarding.web.extensions import app_playbooks, limiter
from onboarding.web.forms import fill_form, step_form_class, submitted_answers
from onboarding.web.public.remember import forget, remember

bp = Blueprint("intake", __name__, url_prefix="/intake")

EXPIRED = (
    "This page was open for a long time, so for your security we could not save it yet. "
    "Your answers are still below: please check them and press the button again."
)


class SubmitForm(FlaskForm):
    """The review page's Submit button (and its "Email me my link")."""


def link_message(result: str, intake: Intake) -> str:
    """What the prospect reads after "Email me my link"."""
    if result == "sent":
        return (
            f"We have emailed your private link to {intake.contact_email}. It can take a few "
            "minutes to arrive; if it does not, look in your spam folder."
        )
    if result == "failed":
        return (
            f"We could not email your link to {intake.contact_email}: the mail server "
            "refused it. Check the address, or copy the link on this page."
        )
    if result == "limited":
        return (
            "We have emailed your link several times already, so we have not sent another "
            "one now. Please try again later, or copy the link on this page."
        )
    return f"We need your email address first: add it on the “{email_step_title()}” step."


def email_step_title() -> str:
    """The title of the step that asks for the prospect's email."""
    questionnaire = get_questionnaire()
    section_id = questionnaire.section_of.get("contact_email") or questionnaire.sections[0].id
    return questionnaire.section(section_id).title


def email_link(intake: Intake) -> str:
    """The "Email me my link" button: written to the outbox, sent after the commit."""
    begin_write(db.session())  # a step's POST committed already: write from the start
    result = mail.email_resume_link(intake)
    db.session.commit()
    flash(link_message(result, intake), "error" if result != "sent" else "success")
    return result


def load(token: str) -> Intake:
    """The intake of ``token``; 404 for none, 410 once its link has lapsed (nothing
    saved for ``RESUME_DAYS``)."""
    intake = intake_by_token(token)
    if intake is None:
        abort(404)
    if resume_lapsed(intake, current_app.config["RESUME_DAYS"]):
        abort(410)
    return intake


def csrf_ok(form: FlaskForm) -> bool:
    """Whether the posted CSRF token is valid (expired tokens are not)."""
    try:
        validate_csrf(form.csrf_token.data)
    except ValidationError:
        return False
    return True


@functools.cache
def step_form(section_id: str):
    """The step form class of a section (built once per process)."""
    return step_form_class(get_questionnaire().section(section_id))


def step_index(section_id: str) -> int:
    """The 0-based position of a section, or 404."""
    ids = [s.id for s in get_questionnaire().sections]
    if section_id not in ids:
        abort(404)
    return ids.index(section_id)


def client_condition(question: Question, section: Section) -> dict[str, str] | None:
    """For a ``show_if`` on a question of the same page, what the page script needs.

    Simple conditions (a yes/no question, or ``question = "value"``) are toggled live
    in the browser; the server decides in every case.
    """
    condition = get_questionnaire().condition_of(question.id, form=True)
    if condition is None:
        return None
    same_page = {q.id for q in section.questions}
    if not set(condition.reads) <= same_page:
        return None
    tree = condition.tree
    q = get_questionnaire().questions
    if isinstance(tree, rules.Name):
        hint = f"Only if you answered Yes to “{q[tree.id].label}”"
        return {"name": tree.id, "value": "yes", "hint": hint}
    if (
        isinstance(tree, rules.Compare)
        and tree.op == "=="
        and isinstance(tree.left, rules.Name)
        and isinstance(tree.right, rules.Literal)
    ):
        value = str(tree.right.value)
        label = q[tree.left.id].values.get(value, value)
        return {"name": tree.left.id, "value": value, "hint": f"Only if you chose “{label}”"}
    return None


def visible_questions(section: Section, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions to render: hidden ones (by earlier answers) are left out, and a
    question revealed by an answer on the same page is nested under that answer
    (``item["reveals"][value]``), as the GOV.UK conditional reveal does."""
    questionnaire = get_questionnaire()
    out: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for q in section.questions:
        live = client_condition(q, section)
        if live is None and not questionnaire.shown(q.id, answers, form=True):
            continue
        item = {"q": q, "live": live, "reveals": {}, "nested": False}
        by_id[q.id] = item
        parent = by_id.get(live["name"]) if live else None
        if parent is not None and parent["q"].type in ("yesno", "choice"):
            item["nested"] = True
            parent["reveals"].setdefault(live["value"], []).append(item)
        else:
            out.append(item)
    return out


def all_items(items: list[dict[str, Any]]):
    """Every item, revealed ones included, in page order."""
    for item in items:
        yield item
        for children in item["reveals"].values():
            yield from all_items(children)


def render_step(intake: Intake, section: Section, form, errors: list[FieldError], notice=None):
    """The step page (status 422 when it shows errors)."""
    questionnaire = get_questionnaire()
    index = step_index(section.id)
    by_field: dict[str, str] = {}
    for e in errors:
        by_field.setdefault(e.question, e.message)
    items = visible_questions(section, intake.answers or {})
    for item in all_items(items):  # aria-describedby: the hint, count and error
        q = item["q"]
        budget = q.id == "budget_band"
        ids = [f"{q.id}-hint"] if q.help or budget or (item["live"] and not item["nested"]) else []
        ids += [f"{q.id}-count"] if q.long and q.max_length else []
        ids += [f"{q.id}-error"] if q.id in by_field else []
        item["describedby"] = " ".join(ids)
    done = step_index(intake.current_step) if intake.current_step else -1
    return render_template(
        "intake/step.html",
        intake=intake,
        section=section,
        sections=questionnaire.sections,
        index=index,
        form=form,
        items=items,
        flat_items=list(all_items(items)),
        errors=by_field,
        notice=notice,
        from_review=request.values.get("from") == "review",
        asks_email=any(q.id == "contact_email" for q in section.questions),
        email_step=email_step_title(),
        reachable=max(done + 1, index),
        budget_currency=budget_currency(),
    ), (422 if errors or notice else 200)


def budget_currency() -> str:
    """The currency the agency quotes in (its profile's), for the budget question."""
    from onboarding.services.profile import installation_profile

    return installation_profile().profile.currency


@bp.get("/<token>")
def resume(token: str):
    """Send a returning prospect to where they left off."""
    intake = load(token)
    if intake.status != "draft":
        return redirect(url_for(".thanks", token=token))
    return remember(redirect(resume_target(intake)), intake)


def resume_target(intake: Intake) -> str:
    """Where a returning prospect continues: the first step after the last saved one,
    the last saved one if incomplete, or the review."""
    sections = get_questionnaire().sections
    token = intake.token
    if intake.current_step is None:
        return url_for(".step", token=token, section_id=sections[0].id)
    done = step_index(intake.current_step)
    if done + 1 >= len(sections):
        return url_for(".review", token=token)
    answered = intake.answers or {}
    current = sections[done]
    _, errors = get_questionnaire().validate_step(current.id, answered, answered, form=True)
    target = current if errors else sections[done + 1]
    return url_for(".step", token=token, section_id=target.id)


@bp.route("/<token>/step/<section_id>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STEP_LIMIT"], methods=["POST"], scope="steps")
def step(token: str, section_id: str):
    """One section of the questionnaire; each Next saves it at once."""
    intake = load(token)
    if intake.status != "draft":
        return redirect(url_for(".thanks", token=token))
    index = step_index(section_id)
    sections = get_questionnaire().sections
    section = sections[index]
    form_class = step_form(section.id)
    if request.method == "GET":
        form = form_class(formdata=None)
        # What did not pass its checks last time comes back as typed, with its message.
        values, kept_errors = step_draft(intake, section.id)
        fill_form(section, form, values)
        page, _ = render_step(intake, section, form, kept_errors)
        return remember(make_response(page, 200), intake)

    form = form_class()
    if not csrf_ok(form):
        fresh = form_class(formdata=None)
        form.csrf_token.current_token = fresh.csrf_token.current_token
        return render_step(intake, section, form, [], notice=EXPIRED)
    # Saving writes the private link to the outbox the first time the draft has an
    # address; it is sent after the commit.
    submitted = submitted_answers(section, form)
    errors = save_step(intake, section.id, submitted)
    errors = get_questionnaire().form_errors(errors, submitted)  # plain words
    db.session.commit()
    action = request.form.get("action")
    goto = request.form.get("goto")
    if goto:  # the progress list: save what is valid, go to an earlier step
        target = step_index(goto)
        if errors and target > index:
            return render_step(intake, section, form, errors)
        return redirect(url_for(".step", token=token, section_id=sections[target].id))
    if action == "email_link":  # save, email the link, and stay on this step
        email_link(intake)
        if errors:  # what was typed stays on the page (invalid values are not stored)
            return render_step(intake, section, form, [])
        target = {"from": "review"} if request.form.get("from") == "review" else {}
        return redirect(url_for(".step", token=token, section_id=section.id, **target))
    going_back = action == "back"
    if errors and not going_back:
        return render_step(intake, section, form, errors)
    if going_back:
        if index == 0:  # the start page then offers this draft: Back never makes another
            return remember(redirect(url_for("pages.start")), intake)
        return redirect(url_for(".step", token=token, section_id=sections[index - 1].id))
    if request.form.get("from") == "review" or index + 1 == len(sections):
        return redirect(url_for(".review", token=token))
    return redirect(url_for(".step", token=token, section_id=sections[index + 1].id))


@bp.post("/<token>/step/<section_id>/answers")
@limiter.limit(lambda: current_app.config["AUTOSAVE_LIMIT"], scope="autosave")
def autosave(token: str, section_id: str):
    """The step's answers saved as they are given (intake.js, on each change; CSRF as
    the step's form): the valid ones stored, the others kept as typed for the step to
    show again with their message. Nothing moves on: the step's button still does. JSON:
    ``{"saved": true, "invalid": [question ids]}``."""
    intake = load(token)
    if intake.status != "draft":
        return jsonify(saved=False, reason="sent"), 409
    index = step_index(section_id)
    section = get_questionnaire().sections[index]
    form = step_form(section.id)()
    if not csrf_ok(form):
        return jsonify(saved=False, reason="expired"), 400
    submitted = submitted_answers(section, form)
    errors = keep_answers(intake, section.id, submitted)
    db.session.commit()
    typed = {e.question for e in errors if submitted.get(e.question) not in (None, [], "")}
    return jsonify(saved=True, invalid=sorted(typed))


def review_rows(intake: Intake) -> list[dict[str, Any]]:
    """Sections with each shown question and its answer as a person reads it."""
    questionnaire = get_questionnaire()
    answers = intake.answers or {}
    out = []
    for section in questionnaire.sections:
        rows = []
        for q in section.questions:
            if not questionnaire.shown(q.id, answers, form=True):
                continue
            rows.append({"q": q, "value": answers.get(q.id), "text": q.display(answers.get(q.id))})
        out.append({"section": section, "rows": rows})
    return out


@bp.get("/<token>/review")
def review(token: str):
    """Check your answers, with a Change link to each step."""
    intake = load(token)
    if intake.status != "draft":
        return redirect(url_for(".thanks", token=token))
    return render_review(intake, SubmitForm(), [])


def render_review(intake: Intake, form: FlaskForm, errors: list[FieldError], notice=None):
    """The review page, listing what is missing when a submit was refused."""
    questionnaire = get_questionnaire()
    return render_template(
        "intake/review.html",
        intake=intake,
        groups=review_rows(intake),
        form=form,
        errors=errors,
        notice=notice,
        section_of=questionnaire.section_of,
        sections=questionnaire.sections,
        index=len(questionnaire.sections),
    ), (422 if errors or notice else 200)


def review_post(token: str) -> tuple[Intake, None] | tuple[None, Any]:
    """A form posted from the review page: its draft intake, or what to answer instead
    (the thanks page once it is submitted, the review page again when the form lapsed)."""
    intake = load(token)
    if intake.status != "draft":
        return None, redirect(url_for(".thanks", token=token))
    if not csrf_ok(SubmitForm()):
        return None, render_review(intake, SubmitForm(formdata=None), [], notice=EXPIRED)
    return intake, None


@bp.post("/<token>/submit")
def submit(token: str):
    """Validate the whole set, assess it once, and thank the prospect."""
    intake, answer = review_post(token)
    if answer is not None:
        return answer
    intake, errors = submit_by_token(token, playbooks=app_playbooks(), form=True)
    if errors:
        errors = get_questionnaire().form_errors(errors, intake.answers or {})
        return render_review(intake, SubmitForm(formdata=None), errors)
    return forget(redirect(url_for(".thanks", token=token)))


@bp.post("/<token>/email-link")
def email_link_from_review(token: str):
    """The review page's "Email me my link" (the steps' button saves the step first)."""
    intake, answer = review_post(token)
    if answer is not None:
        return answer
    email_link(intake)
    return redirect(url_for(".review", token=token))


@bp.get("/<token>/thanks")
def thanks(token: str):
    """What happens next, in plain words (step 3 of the method: share the process), and
    where the intake stands now: declined, an agreement to read (the latest version's
    link), accepted or signed."""
    intake = load(token)
    if intake.status == "draft":
        return redirect(url_for(".review", token=token))
    latest = latest_version(intake)  # the agreement's state, told on the page
    page = render_template("intake/thanks.html", intake=intake, latest=latest)
    return forget(make_response(page))


# --- reminders: the one-click stop ------------------------------------------------------------


@bp.route("/stop-reminders/<stop_token>", methods=["GET", "POST"])
def stop_reminders(stop_token: str):
    """Stop a draft's reminders. A GET only asks (mail scanners open links); the POST
    stops them: the confirmation's button, or a mail client's one-click unsubscribe
    (RFC 8058, ``List-Unsubscribe=One-Click``). No CSRF token: the unguessable link is
    the credential, and it can do nothing but this."""
    reminder = reminders.reminder_by_stop_token(stop_token)
    if reminder is None:
        abort(404)
    stopped = reminder.stopped_at is not None
    if request.method == "POST":
        reminders.stop_reminders(reminder)
        db.session.commit()
        stopped = True
    return render_template(
        "intake/stop_reminders.html",
        stop_token=stop_token,
        stopped=stopped,
        just_stopped=request.method == "POST",
    )
