"""The agreement as a contract, in the workspace: "Prepare the agreement" (an
engagement's terms and the manager's clause changes), the agency profile (admins), and
the polite decline for a client to walk away from.

The forms post field names that are the terms' own paths (``fee.amount``,
``payment_schedule[1].percent``), so a validation error from the domain lands beside
the field it names, and what was typed is shown again, never lost.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.domain import terms as terms_mod
from onboarding.domain.playbooks import SECTIONS
from onboarding.domain.schedule import PHASES
from onboarding.domain.terms import STANDARD_SECTIONS, TermsInvalid
from onboarding.services import kept
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import workspace
from onboarding.services.notify import decline as declines
from onboarding.web.workspace import terms_form
from onboarding.web.workspace.auth import KEPT_NOTICE, PostForm, admin_required, staff_only
from onboarding.web.workspace.common import checked_post, load
from onboarding.web.workspace.terms_form import SCHEDULE_ROWS, form_blocks
from onboarding.web.workspace.terms_form import whole as _whole
from onboarding.web.writing import start_writing

bp = Blueprint("contracts", __name__, url_prefix="/workspace")

bp.before_request(staff_only)


MAX_ROWS = 500
"""Rows of one repeated group a form may send (clauses, instalments)."""


def _count(form, name: str) -> int:
    """A form's count of repeated rows, bounded (a forged huge count is no loop)."""
    raw = form.get(name, "0") or "0"
    return min(int(raw), MAX_ROWS) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0


def _agency_name() -> str:
    return current_app.config["AGENCY_NAME"]


# --- the terms form: request.form <-> the terms contract ---------------------------------


def terms_from_form(form) -> dict[str, Any]:
    """The terms object (terms.md) from the posted form; blanks are left out. The term
    table's fields are read by :mod:`.terms_form`, the clause changes here."""
    data = terms_form.terms_from_form(form)
    changes: dict[str, list[dict[str, str]]] = {"add": [], "remove": [], "replace": []}
    for cid in form.getlist("clause_ids"):
        if form.get(f"remove.{cid}"):
            changes["remove"].append({"id": cid, "reason": form.get(f"remove_reason.{cid}", "")})
        elif form.get(f"replace_text.{cid}", "").strip():
            changes["replace"].append(
                {
                    "id": cid,
                    "text": form.get(f"replace_text.{cid}", ""),
                    "reason": form.get(f"replace_reason.{cid}", ""),
                }
            )
    for i in range(_count(form, "added_count") + 1):
        title = form.get(f"clauses.add[{i}].title", "").strip()
        text = form.get(f"clauses.add[{i}].text", "").strip()
        if title or text:
            changes["add"].append(
                {"section": form.get(f"clauses.add[{i}].section", ""), "title": title, "text": text}
            )
    for cid in form.getlist("optional_ids"):
        if form.get(f"include.{cid}"):
            changes["add"].append({"id": cid})
    changes = {k: v for k, v in changes.items() if v}
    if changes:
        data["clauses"] = changes
    options = _option_changes_from_form(form)
    if options:
        data["options"] = options
    return data


def _option_changes_from_form(form) -> dict[str, list[Any]]:
    """The manager's changes to the options offered (``option.<id>``: auto, offer,
    withdraw or include; ``option_reason.<id>``: why an option is included)."""
    out: dict[str, list[Any]] = {"offer": [], "withdraw": [], "include": []}
    for name in form:
        if not name.startswith("option."):
            continue
        oid, state = name[len("option.") :], form.get(name, "auto")
        if state == "include":
            reason = form.get(f"option_reason.{oid}", "").strip()
            out["include"].append({"id": oid, "reason": reason} if reason else oid)
        elif state in out:
            out[state].append(oid)
    return {k: v for k, v in out.items() if v}


def _option_rows(intake, profile, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rate card's options as the Prepare form lists them: the playbooks' offer (the
    wish it answers), its price, the manager's choice."""
    from onboarding.domain import options as options_mod

    changes, _ = options_mod.parse_changes(data.get("options"))
    result = intake.assessment.result if intake.assessment is not None else {}
    offered = {o["id"]: o for o in (result or {}).get("offers") or ()}
    rows = []
    for o in profile.options:
        state = "auto"
        for key in ("offer", "withdraw", "include"):
            if o.id in getattr(changes, key):
                state = key
        rows.append(
            {
                "id": o.id,
                "title": o.title,
                "price": options_mod.price_text(o, profile.currency),
                "because": (offered.get(o.id) or {}).get("because", ""),
                "state": state,
                "reason": changes.reasons.get(o.id, ""),
            }
        )
    return rows


PROFILE_LABELS = {
    "currency": "Currency",
    "expenses": "Expenses",
    "ip_option": "Who owns the finished work",
    "legal_name": "Legal name",
    "trading_name": "Trading name",
    "address": "Registered address",
    "company_number": "Company number",
    "legal_form": "Legal form",
    "registration_label": "What the number is called",
    "vat_number": "VAT number",
    "governing_law": "Governing law",
    "late_interest": "Interest on late payment",
    "liability_cap": "Liability cap",
    "change_margin_percent": "Estimate margin",
    "non_solicitation_months": "Non-solicitation",
    "late_interest_percent": "Late payment interest (% a year)",
    "late_interest_base": "Above which base rate",
    "cancellation_fee_percent": "Cancellation fee",
    "non_refundable_deposit": "Deposit on signing",
    "non_solicitation": "Non-solicitation clause",
    "insurance_cover": "Professional indemnity cover",
    "data_protection_cap": "Data protection liability cap",
    "escalation_days": "Escalation and dispute steps",
}


def field_label(path: str) -> str:
    """The label a person sees for a terms path (errors name the field as shown)."""
    labels = terms_form.field_labels() | PROFILE_LABELS
    if path in labels:
        return labels[path]
    m = re.match(r"payment_schedule\[(\d+)\]\.(when|percent)$", path)
    if m:
        return f"Instalment {int(m.group(1)) + 1}: {'when' if m.group(2) == 'when' else 'percent'}"
    m = re.match(r"(service_levels|signatory)\.(\w+)$", path)
    if m:
        levels = terms_form.member_labels("service_levels")
        return (levels.get(m.group(2)) if m.group(1) == "service_levels" else None) or (
            f"Signatory's {m.group(2)}"
        )
    m = re.match(r"(\w+)\.signatory\.(name|title|email)$", path)
    if m:
        part = {"name": "name", "title": "job title", "email": "email"}[m.group(2)]
        return f"Who signs for the {m.group(1)}: {part}"
    m = re.match(r"clauses\.(add|remove|replace)\[(\d+)\]\.(\w+)$", path)
    if m:
        kind = {"add": "Added clause", "remove": "Removed clause", "replace": "Replaced clause"}
        return f"{kind[m.group(1)]} {int(m.group(2)) + 1}: {m.group(3)}"
    m = re.match(r"standard_clauses\[(\d+)\]\.(\w+)$", path)
    if m:
        return f"Standard clause {int(m.group(1)) + 1}: {m.group(2)}"
    m = re.match(r"options\[(\d+)\]\.([\w.]+)$", path)
    if m:
        return f"Option {int(m.group(1)) + 1}: {m.group(2).replace('_', ' ').replace('.', ' ')}"
    return path.replace("_", " ").capitalize()


def _field_id(path: str) -> str:
    """The HTML id of the form field a terms path names (errors link to it)."""
    path = re.sub(r"^clauses\.(remove|replace)\[\d+\]\.", "clauses.", path)
    return "f-" + re.sub(r"[^a-zA-Z0-9]+", "-", path).strip("-")


def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Field values to show, from a terms object (saved or just posted)."""
    values = terms_form.form_values(data)
    changes = data.get("clauses") or {}
    values["removed"] = {c["id"]: c.get("reason", "") for c in changes.get("remove", [])}
    values["replaced"] = {c["id"]: c for c in changes.get("replace", [])}
    values["added"] = [c for c in changes.get("add", []) if "title" in c]
    values["included"] = {c["id"] for c in changes.get("add", []) if "id" in c and "title" not in c}
    return values


def _page(
    intake, data: dict[str, Any], errors: dict[str, str], status: int = 200, kept_notice=None
):
    installation = contracts.installation_profile(_agency_name())
    try:
        terms = terms_mod.parse_terms(data)
    except TermsInvalid:
        terms = contracts.terms_of(intake)
    agreement = contracts.agreement_of(intake, _agency_name(), terms)
    problems = contracts.problems_of(intake, agreement, terms)
    profile = installation.profile
    optional = [c for c in profile.standard_clauses if c.optional]
    answers = intake.answers or {}
    return (
        render_template(
            "manager/terms.html",
            intake=intake,
            values=_form_values(data),
            errors=errors,
            error_ids={field: _field_id(field) for field in errors},
            field_id=_field_id,
            field_label=field_label,
            agreement=agreement,
            problems=problems,
            draft=terms_mod.is_draft(terms),
            blockers=contracts.send_blockers(intake, _agency_name(), walk_away_reason="-"),
            profile=profile,
            profile_saved=installation.version is not None,
            optional=optional,
            payment_whens=[
                ("on_signing", "On signing"),
                ("on_completion", "On completion"),
                ("monthly", "Monthly"),
                *[(f"phase:{name}", f"At the end of {name}") for name, _, _ in PHASES],
            ],
            sections={**SECTIONS, **STANDARD_SECTIONS},
            blocks={card: form_blocks(card, profile) for card in terms_form.cards()},
            other_cards=terms_form.cards(placed=False),
            schedule_rows=SCHEDULE_ROWS,
            biggest_worry=answers.get("biggest_worry"),
            clause_errors=any(field.startswith("clauses") for field in errors),
            option_rows=_option_rows(intake, profile, data),
            form=PostForm(),
            kept_notice=kept_notice,
            unsaved=bool(errors or kept_notice),
        ),
        status,
    )


def _kept_form():
    """What this user posted to this form as their session lapsed (``?kept=<id>``), read
    like a post, or None (services.kept: restored, never replayed)."""
    data = kept.kept_for_user(current_user.id, request.path, request.args.get("kept"))
    return kept.KeptValues(data) if data is not None else None


@bp.get("/intakes/<public_id>/terms")
def terms(public_id: str):
    """Prepare the agreement: the engagement's terms and the manager's clause changes."""
    intake = load(public_id)
    if intake.assessment is None:
        flash("The intake has not been submitted yet: there is no agreement to prepare.")
        return redirect(url_for("manager.intake", public_id=public_id))
    restored = _kept_form()
    if restored is not None:
        return _page(intake, terms_from_form(restored), {}, kept_notice=KEPT_NOTICE)
    return _page(intake, contracts.stored_terms(intake), {})


@bp.post("/intakes/<public_id>/terms")
def save_terms(public_id: str):
    """Save the terms; every error at once, beside its field, with what was typed kept."""
    intake = load(public_id)
    checked_post()
    if intake.assessment is None:
        return redirect(url_for("manager.intake", public_id=public_id))
    data = terms_from_form(request.form)
    try:
        contracts.save_terms(intake, data, current_user)
    except TermsInvalid as exc:
        db.session.rollback()
        errors = {e.field: e.message for e in exc.errors}
        return _page(intake, data, errors, 422)
    kept.forget_for_user(current_user.id, request.path)
    db.session.commit()
    agreement = contracts.agreement_of(intake, _agency_name())
    problems = contracts.problems_of(intake, agreement, contracts.terms_of(intake))
    if problems:
        flash(
            "Terms saved. The agreement still contradicts itself, so it cannot be sent: "
            + " ".join(p.line() for p in problems)
        )
    else:
        flash("Terms saved.")
    return redirect(url_for(".terms", public_id=public_id) + "#summary")


# --- the agency profile --------------------------------------------------------------------


def profile_from_form(form) -> dict[str, Any]:
    """The agency profile (terms.md) from the posted form."""
    data: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in (
            "legal_name",
            "trading_name",
            "address",
            "company_number",
            "legal_form",
            "registration_label",
            "vat_number",
            "currency",
            "governing_law",
            "late_interest",
            "liability_cap",
            "ip_option",
            "expenses",
            "late_interest_percent",
            "late_interest_base",
            "insurance_cover",
            "data_protection_cap",
        )  # fmt: skip
    }
    for key in ("non_refundable_deposit", "non_solicitation"):
        choice = form.get(key, "").strip()
        if choice in ("True", "False"):
            data[key] = choice == "True"
    data["currency"] = data["currency"].upper()
    data["signatory"] = {
        k: form.get(f"signatory.{k}", "").strip() for k in ("name", "title", "email")
    }
    for key, _, _ in terms_mod.PROFILE_NUMBERS:
        if key not in form:  # a setting this form does not show keeps the shipped value
            continue
        value = form.get(key, "").strip()
        if value or key != "cancellation_fee_percent":  # blank: the shipped default
            data[key] = _whole(value)
    data["service_levels"] = {}
    for key in terms_mod.SERVICE_LEVEL_KEYS:
        value = form.get(f"service_levels.{key}", "").strip()
        data["service_levels"][key] = _whole(value)
    clauses = []
    for i in range(_count(form, "clause_count")):
        clause = {
            key: form.get(f"standard_clauses[{i}].{key}", "").strip()
            for key in ("id", "section", "title", "text", "when")
        }
        if not clause["when"]:
            del clause["when"]
        if form.get(f"standard_clauses[{i}].optional"):
            clause["optional"] = True
        if clause["id"] and not form.get(f"standard_clauses[{i}].delete"):
            clauses.append(clause)
    data["standard_clauses"] = clauses
    data["options"] = _options_from_form(form)
    return data


def _options_from_form(form) -> list[dict[str, Any]]:
    """The rate card's rows as posted (a row without an id, or ticked for deletion, is
    left out); ``sets`` is typed as ``response_hours: 4, update_cadence: daily``."""
    out = []
    for i in range(_count(form, "option_count")):
        p = f"options[{i}]"
        row: dict[str, Any] = {
            key: form.get(f"{p}.{key}", "").strip() for key in ("id", "title", "description")
        }
        if not row["id"] or form.get(f"{p}.delete"):
            continue
        row["price"] = {
            "amount": form.get(f"{p}.price.amount", "").strip(),
            "per": form.get(f"{p}.price.per", "").strip(),
        }
        for key in ("unit", "max_quantity"):
            if form.get(f"{p}.{key}", "").strip():
                row[key] = form.get(f"{p}.{key}", "").strip()
        sets: dict[str, Any] = {}
        for part in form.get(f"{p}.sets", "").replace(";", ",").split(","):
            name, _, value = part.partition(":")
            if name.strip():
                value = value.strip()
                sets[name.strip()] = int(value) if value.isascii() and value.isdigit() else value
        if sets:
            row["sets"] = sets
        out.append(row)
    return out


def _profile_page(
    values: dict[str, Any], errors: dict[str, str], status: int = 200, kept_notice=None
):
    installation = contracts.installation_profile(_agency_name())
    return (
        render_template(
            "manager/agency.html",
            values=values,
            errors=errors,
            field_id=_field_id,
            field_label=field_label,
            error_prefixes={field.split(".")[0] for field in errors},
            option_errors={
                f.split(".sets")[0] + ".sets": m for f, m in errors.items() if ".sets." in f
            },  # fmt: skip
            saved=installation.version,
            missing=installation.profile.missing_for_sending()
            if installation.version is not None
            else [],
            versions=contracts.profile_versions(),
            lawyer_note=contracts.LAWYER_NOTE,
            sections=STANDARD_SECTIONS,
            level_labels=terms_form.member_labels("service_levels"),
            cadence_labels=terms_form.choice_labels("service_levels.update_cadence"),
            ip_options=terms_mod.IP_OPTIONS,
            expenses=terms_mod.EXPENSES,
            can_edit=current_user.is_admin,
            form=PostForm(),
            kept_notice=kept_notice,
            unsaved=bool(errors or kept_notice),
        ),
        status,
    )


@bp.get("/intakes/<public_id>/proposal.pdf")
def proposal_pdf(public_id: str):
    """The proposal letter as the client will receive it with the agreement (PDF)."""
    from flask import Response, abort

    from onboarding.services.agreement import proposal as proposals
    from onboarding.web.downloads import content_disposition

    intake = load(public_id)
    if intake.assessment is None:
        abort(404)
    paper = request.args.get("paper", "a4")
    data, name = proposals.proposal_pdf(
        intake, paper if paper in ("a4", "letter") else "a4", _agency_name()
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/agency")
def agency():
    """The agency profile: who the agency is in its agreements, and its standard terms."""
    restored = _kept_form() if current_user.is_admin else None
    if restored is not None:
        return _profile_page(profile_from_form(restored), {}, kept_notice=KEPT_NOTICE)
    installation = contracts.installation_profile(_agency_name())
    return _profile_page(installation.profile.as_dict(), {})


@bp.post("/agency")
@admin_required
def save_agency():
    """Save a new version of the agency profile (admins)."""
    checked_post()
    data = profile_from_form(request.form)
    try:
        row = contracts.save_profile(data, current_user, request.form.get("note"))
    except TermsInvalid as exc:
        db.session.rollback()
        return _profile_page(data, {e.field: e.message for e in exc.errors}, 422)
    kept.forget_for_user(current_user.id, request.path)
    db.session.commit()
    flash(f"Agency profile saved as version {row.version}.")
    return redirect(url_for(".agency"))


# --- walking away politely ------------------------------------------------------------------


@bp.get("/intakes/<public_id>/decline")
def decline(public_id: str):
    """A short, polite decline letter for a client the assessment says to walk away from."""
    intake = load(public_id)
    if intake.assessment is None:
        return redirect(url_for("manager.intake", public_id=public_id))
    installation = contracts.installation_profile(_agency_name())
    letter = contracts.decline_letter(intake, installation.profile, current_user)
    return render_template(
        "manager/decline.html",
        intake=intake,
        letter=letter,
        form=PostForm(),
        sent=declines.decline_sent(intake),
    )


@bp.post("/intakes/<public_id>/decline/send")
def send_decline(public_id: str):
    """Email the decline, as the manager reviewed (and perhaps edited) it, to the
    prospect; the history records it."""
    intake = load(public_id)
    checked_post()
    if intake.assessment is None:
        return redirect(url_for("manager.intake", public_id=public_id))
    letter = request.form.get("letter", "")
    start_writing()
    intake = load(public_id)
    try:
        row = declines.send_decline(intake, current_user, letter)
    except ValueError as exc:
        db.session.rollback()
        html = render_template(
            "manager/decline.html",
            intake=intake,
            letter=letter,
            form=PostForm(),
            sent=declines.decline_sent(intake),
            error=str(exc),
        )
        return html, 422
    workspace.audit(intake, current_user, "decline_emailed", None, row.to_address)
    db.session.commit()
    flash(f"The letter was sent to {row.to_address}.")
    return redirect(url_for(".decline", public_id=public_id))
