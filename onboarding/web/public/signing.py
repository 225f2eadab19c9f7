"""The prospect's side of the agreement: read it, download it, accept or ask for changes.

The link's token is the prospect's key (a 404 for any other); forms check CSRF in the
view, so an expired page shows the typed name or comment back instead of an error.

The page shows the agreement as it was sent: the HTML frozen with the version (the
content of its PDF) and the stylesheet of that day, served under the version's link.
A version sent before pages were kept offers its PDF instead; nothing is re-composed
from today's settings or playbooks. Stored pages and PDFs are checked against their
SHA-256 before they are shown.

A refused answer shows the page again with every problem in an error summary at the top
(focused by intake.js, linking to each field) and what was typed kept. An acceptance
ends on a confirmation page of its own (GET after the POST's redirect) saying what
happens next: the agency countersigns, and who contacts the prospect, within how long.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from markupsafe import Markup

from onboarding.db import db
from onboarding.domain.text import printable
from onboarding.services.agreement import answers, change_requests, files, versions
from onboarding.services.agreement import next_steps as after_acceptance
from onboarding.services.intake.workspace import WorkspaceError
from onboarding.web.downloads import content_disposition
from onboarding.web.errors import render_error
from onboarding.web.public.intake import EXPIRED, csrf_ok
from onboarding.web.writing import renders_before_writing, start_writing

bp = Blueprint("signing", __name__, url_prefix="/agreement")
log = logging.getLogger(__name__)

CORRUPTED = (
    "We could not confirm that this agreement is exactly the one we sent you, so we will "
    "not show it. Please tell your account manager, who can send it to you again."
)


class AnswerForm(FlaskForm):
    """Accept or ask for changes (fields are read from the request)."""


CHANGE_FIELDS = {"comment": "changes-comment", "clause": "changes-comment"}
"""The comment's fields -> their ids on the page (a clause is chosen by the link beside
it, so a clause no longer on the page points at the box); an acceptance's field ``f``
is ``accept-f``; a refusal of the whole answer (``agreement``) points at the panel."""


def field_id(field: str) -> str:
    """The id of the input an error about ``field`` links to (error summary)."""
    if field == "agreement":
        return "answer"
    return CHANGE_FIELDS.get(field, f"accept-{field}")


@bp.errorhandler(versions.AgreementCorrupted)
def _corrupted(exc: versions.AgreementCorrupted):
    db.session.rollback()
    log.error("refused to show a stored agreement on %s: %s", printable(request.path), exc)
    return render_error(500, CORRUPTED)


def load(token: str):
    """The version of ``token``; 404 for none, 410 once the link of an unanswered
    version has lapsed (``SIGNING_DAYS``, or the offer's ``valid_until``: the manager
    renews it with "Send the link again"). An answered one stays reachable."""
    version = versions.version_by_token(token)
    if version is None:
        abort(404)
    if versions.link_lapsed(version, current_app.config["SIGNING_DAYS"]):
        return abort(
            Response(
                render_error(
                    410,
                    "This link to the agreement has lapsed. Please ask your account manager "
                    "to send it again: they can renew it in a moment.",
                )[0],
                status=410,
                mimetype="text/html",
            )
        )
    return version


def chosen_in(form) -> dict[str, int]:
    """The options ticked on the accept form, ``{id: quantity}`` (a quantity that is no
    whole number is refused by the service, as too many)."""
    choice = {}
    for oid in form.getlist("option")[:30]:
        raw = (form.get(f"quantity.{oid}") or "1").strip()
        choice[oid[:64]] = int(raw) if raw.isascii() and raw.isdigit() else 10**6
    return choice


def is_open(version) -> bool:
    """Whether the version takes comments and an acceptance: the one awaiting the
    prospect (until a new one is sent, or the intake is closed)."""
    return version.status == "sent" and version.intake.status == "agreement_sent"


def with_comment_links(html: str, version) -> str:
    """The frozen page (checked against its digest first) with a "Comment on this
    clause" link inside each clause it numbers, to the comment form with that clause
    chosen. The stored page is not changed; a clause not found is left as it is."""
    for choice in change_requests.clause_choices(version):
        start = html.find(f'id="{choice.anchor}"')
        if start < 0:
            continue
        tag = html.rfind("<", 0, start)
        name = html[tag + 1 : start].split()[0] if tag >= 0 else ""
        end = html.find(f"</{name}>", start) if name in ("article", "p") else -1
        if end < 0:
            continue
        url = url_for(".comment", token=version.token, clause=choice.number)
        link = Markup(
            ' <a class="clause-comment" href="{url}">Comment on this clause'
            '<span class="visually-hidden"> ({number} {title})</span></a>'
        ).format(url=url, number=choice.number, title=choice.title)
        if name == "article":
            link = Markup('<p class="clause-comment__row">{}</p>').format(link)
        html = html[:end] + str(link) + html[end:]
    return html


def render_page(version, errors=None, notice=None, values=None, status=200):
    """The prospect's page: the banner, the proposal and the agreement as sent (with a
    comment link by each clause while it is open), then the conversation and their
    answer (with the options to choose)."""
    page = versions.verified_page(version)
    values = values or {}
    document = None
    if page is not None:
        document = with_comment_links(page.html, version) if is_open(version) else page.html
    html = render_template(
        "signing/agreement.html" if page is not None else "signing/pdf_only.html",
        page=page,
        document=document,
        version=version,
        intake=version.intake,
        form=AnswerForm(formdata=None),
        errors=errors or {},
        notice=notice,
        values=values or {},
        thread=versions.messages_of(version.intake),
        latest=versions.latest_version(version.intake),  # superseded: a link forward
        clauses=[],  # each clause has its own "Comment on this clause" link instead
        field_id=field_id,
        changes=versions.changes_of(version),  # "What changed since version n"
        client_details=answers.client_details_of(version),  # to confirm when accepting
        options=answers.option_summary(version, values.get("options") or {}),
        proposal_html=(version.content or {}).get("proposal_html"),
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/<token>")
def view(token: str):
    """The agreement to read, with the accept and comment forms (``?sent=1``: just after
    a comment, which the conversation then says was sent)."""
    return render_page(load(token))


@bp.get("/<token>/agreement.css")
def stylesheet(token: str):
    """The stylesheet the version's page was sent with."""
    page = versions.verified_page(load(token))
    if page is None:
        abort(404)
    return Response(page.stylesheet, mimetype="text/css")


@bp.get("/<token>/fonts/<name>")
def font(token: str, name: str):
    """The fonts that stylesheet names (the packaged Inter files)."""
    load(token)
    return current_app.send_static_file(f"fonts/{name}")


@bp.get("/<token>/pdf")
def pdf(token: str):
    """The latest file of the version: signed by both parties once countersigned, else
    accepted (with its certificate) once accepted, else as sent (``?final=0``: as sent)."""
    version = load(token)
    final = version.status == "accepted" and request.args.get("final") != "0"
    signed = final and version.countersigned_at is not None
    if (final and version.final_pdf is None) or (signed and version.signed_pdf is None):
        # The worker has not made it yet: this request makes it (or waits for it).
        files.ensure_file(version.id, "signed" if signed else "accepted")
        version = load(token)
    data = versions.verified_pdf(version, final=final, signed=signed)
    name = version.filename
    if final:
        name = name.replace(".pdf", " - signed.pdf" if signed else " - accepted.pdf")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.get("/<token>/proposal.pdf")
def proposal_pdf(token: str):
    """The proposal letter sent with this version, as a PDF (rendered from the letter
    frozen with the version)."""
    from onboarding.domain.proposal import Proposal
    from onboarding.rendering.letters import proposal_pdf as render

    version = load(token)
    letter = (version.content or {}).get("proposal")
    if not letter or "letter" not in letter:
        abort(404)
    data, _ = render(Proposal.from_json(letter), paper=version.paper or "a4")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        f"Proposal - {letter['letter']['company']} - {letter['letter']['date']}.pdf"
    )
    return response


@bp.post("/<token>/accept")
@renders_before_writing
def accept(token: str):
    """Accept: typed full name, consent box, one click.

    The certificate renders first; the write transaction begins after, and locks the
    version so a double click accepts once.
    """
    version = load(token)
    values = {
        "name": request.form.get("name", ""),
        "consent": request.form.get("consent"),
        "title": request.form.get("title", ""),  # when the signer is not the contact
        "authority": request.form.get("authority"),
        # The client as a party, confirmed or completed (None: not posted, as sent).
        "legal_name": request.form.get("legal_name"),
        "address": request.form.get("address"),
        "options": chosen_in(request.form),
    }
    if not csrf_ok(AnswerForm()):
        return render_page(version, notice=EXPIRED, values=values, status=422)
    answer = answers.Acceptance(
        name=values["name"],
        consent=values["consent"] == "yes",
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        title=values["title"],
        authority=values["authority"] == "yes",
        legal_name=values["legal_name"],
        address=values["address"],
        options=values["options"],
    )
    try:
        prepared = answers.prepare_acceptance(version, answer)
        start_writing()
        version = versions.version_by_token(token, for_update=True) or abort(404)
        answers.record_acceptance(version, prepared)
    except WorkspaceError as exc:
        db.session.rollback()
        return render_page(version, errors=exc.errors, values=values, status=422)
    db.session.commit()  # the worker makes the accepted PDF; the page confirms at once
    return redirect(url_for(".accepted", token=token))


@bp.post("/<token>/choose")
def choose(token: str):
    """The options chosen, without JavaScript: the page again with their totals and
    what was typed kept (nothing is recorded until the agreement is accepted)."""
    version = load(token)
    values = {
        "name": request.form.get("name", ""),
        "consent": request.form.get("consent"),
        "title": request.form.get("title", ""),
        "authority": request.form.get("authority"),
        "options": chosen_in(request.form),
    }
    if not csrf_ok(AnswerForm()):
        return render_page(version, notice=EXPIRED, values=values, status=422)
    summary = answers.option_summary(version, values["options"])
    problems = [m[:1].upper() + m[1:] for m in summary["problems"]]
    errors = {"options": "; ".join(problems)} if problems else None
    return render_page(version, errors=errors, values=values, status=422 if errors else 200)


@bp.get("/<token>/accepted")
def accepted(token: str):
    """The confirmation after accepting: what happens next, and the PDF to keep."""
    version = load(token)
    if version.accepted_at is None:
        return redirect(url_for(".view", token=token))
    html = render_template(
        "signing/accepted.html",
        version=version,
        intake=version.intake,
        steps=after_acceptance.next_steps(version),
        latest=versions.latest_version(version.intake),
    )
    return Response(html, mimetype="text/html")


@bp.get("/<token>/file-status")
def file_status(token: str):
    """Whether the file the PDF link gives is made yet (signed by both parties once
    countersigned, else accepted): the pages ask it while they show "we are preparing
    your signed copy"."""
    version = load(token)
    if version.accepted_at is None:
        abort(404)
    signed = version.countersigned_at is not None
    digest = version.signed_pdf_sha256 if signed else version.final_pdf_sha256
    return jsonify(ready=digest is not None, sha256=digest, kind="signed" if signed else "accepted")


def render_comment(version, choice, errors=None, notice=None, values=None, status=200):
    """The comment form about one clause: the clause as the page shows it, then the box."""
    html = render_template(
        "signing/comment.html",
        version=version,
        intake=version.intake,
        latest=versions.latest_version(version.intake),
        choice=choice,
        open=is_open(version),
        form=AnswerForm(formdata=None),
        errors=errors or {},
        notice=notice,
        values=values or {},
        field_id=field_id,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/<token>/comment")
def comment(token: str):
    """Comment on one clause (``?clause=4.2``, from the link beside it); an unknown
    clause goes back to the agreement's own comment form."""
    version = load(token)
    choice = change_requests.clause_choice(version, request.args.get("clause"))
    if choice is None or not is_open(version):
        return redirect(url_for(".view", token=token, _anchor="answer"))
    return render_comment(version, choice)


@bp.post("/<token>/changes")
def changes(token: str):
    """A comment or a change request, about one clause or the whole agreement; the
    account manager gets it in "needs your attention", and the version stays open.
    A lapsed link takes none (410), like every other action."""
    load(token)
    version = versions.version_by_token(token, for_update=True) or abort(404)
    values = {
        "comment": request.form.get("comment", ""),
        "clause": request.form.get("clause", ""),
    }
    choice = change_requests.clause_choice(version, values["clause"])

    def again(**shown):
        if choice is not None:  # the clause's own form, not the 18,000 px page
            return render_comment(version, choice, values=values, status=422, **shown)
        return render_page(version, values=values, status=422, **shown)

    if not csrf_ok(AnswerForm()):
        return again(notice=EXPIRED)
    try:
        change_requests.request_changes(version, values["comment"], values["clause"])
    except WorkspaceError as exc:
        db.session.rollback()
        return again(errors=exc.errors)
    db.session.commit()
    return redirect(url_for(".view", token=token, sent="1", _anchor="conversation"))
