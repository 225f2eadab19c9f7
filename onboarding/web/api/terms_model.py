"""The API's model of an engagement's terms, made from the term table
(``domain/data/terms.yaml``), so the OpenAPI document states each term as the domain
checks it: its type, bounds, choices and, for the fee, which amounts each model takes.

Documentation only, like every API model here: ``PUT .../terms`` hands the body to
the domain, whose errors keep the API's shape (``{"errors": [{"field", "message"}]}``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from onboarding.domain.term_fields import TermField, TermTable, table

MONEY_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"
WHEN_PATTERN = r"^(on_signing|on_completion|monthly|phase:.+)$"


class Exact(BaseModel):
    """A terms object: the keys listed and no others (the domain refuses the rest)."""

    model_config = ConfigDict(extra="forbid")


class TermsPerson(Exact):
    """A person who signs for a party: any of name, job title and email."""

    name: str | None = Field(None, max_length=120)
    title: str | None = Field(None, max_length=120)
    email: str | None = Field(None, max_length=254)


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.replace(".", "_").split("_"))


DATE_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _describe(row: TermField) -> str:
    help_text = (row.get("help") or "").replace("{default}", "the agency's")
    return f"{row.label}. {help_text}".strip() if help_text else row.label


def _scalar(row: TermField) -> Any:
    """The annotated Python type of one scalar row."""
    kind = row.type
    if kind == "currency":
        return Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])]
    if kind == "money":
        return Annotated[str, Field(pattern=MONEY_PATTERN, examples=["24000.00"])]
    if kind == "number":
        return Annotated[str, Field(pattern=MONEY_PATTERN, examples=["7.5"])]
    if kind == "whole":
        if row.get("one_of"):
            return Literal[tuple(row.get("one_of"))]  # type: ignore[misc]
        return Annotated[int, Field(ge=row.get("min"), le=row.get("max"))]
    if kind == "date":
        # A date from 1900 to 2099 as the terms check it (a year-9999 date is refused),
        # or "" for none, as a form sends it.
        day = Annotated[
            str, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"},
                       examples=["2027-01-11"])
        ]  # fmt: skip
        return day | Literal[""]
    if kind == "choice":
        return Literal[tuple(row.choices)]  # type: ignore[misc]
    if kind == "choices":
        return list[Literal[tuple(row.choices)]]  # type: ignore[misc]
    if kind == "text":
        return Annotated[str, Field(max_length=row.get("limit", 300))]
    if kind == "person":
        return TermsPerson
    if kind == "list":
        item = Annotated[str, Field(min_length=1, max_length=300)]
        return Annotated[list[item], Field(max_length=50)]  # type: ignore[valid-type]
    raise ValueError(f"{row.key}: no API type for {kind}")  # pragma: no cover


def _optional(row: TermField, annotation: Any) -> tuple[Any, Any]:
    return (annotation | None, Field(None, description=_describe(row)))


def _fee(terms: TermTable) -> Any:
    """The fee: one object per model (``model`` says which), each with its amounts."""
    choices = []
    for model, (required, optional) in terms.fee_models.items():
        fields: dict[str, Any] = {"model": (Literal[model], ...)}  # type: ignore[valid-type]
        for key in required + optional:
            row = terms.row(f"fee.{key}")
            annotation = _scalar(row)  # type: ignore[arg-type]
            if row.type == "money":  # type: ignore[union-attr]
                annotation = annotation | Annotated[int, Field(ge=0)]  # never a float
            elif row.type == "number":  # type: ignore[union-attr]
                # "7.5" or a whole number (a JSON 7.5 is read too, as the domain checks it)
                annotation = annotation | Annotated[int, Field(ge=0)]
            elif row.type == "whole":  # type: ignore[union-attr]
                # The saved terms write a fee's whole numbers as text ("30").
                annotation = annotation | Annotated[str, Field(pattern=r"^\d{1,18}$")]
            if key in required:
                fields[key] = (annotation, Field(..., description=_describe(row)))  # type: ignore[arg-type]
            else:
                fields[key] = _optional(row, annotation)  # type: ignore[arg-type]
        choices.append(
            create_model(f"TermsFee{_camel(model)}", __base__=Exact, **fields)  # type: ignore[call-overload]
        )
    return Annotated[Union[tuple(choices)], Field(discriminator="model")]  # noqa: UP007


def _group(terms: TermTable, key: str) -> Any:
    fields = {m.name: _optional(m, _scalar(m)) for m in terms.members(key)}
    return create_model(f"Terms{_camel(key)}", __base__=Exact, **fields)  # type: ignore[call-overload]


class TermsInstalment(Exact):
    """One instalment of the payment schedule."""

    when: str = Field(
        pattern=WHEN_PATTERN,
        description="on_signing, on_completion, monthly or phase:<phase name>",
    )
    percent: int = Field(ge=1, le=100, description="Whole percents, all adding up to 100.")


class TermsClauseAdd(Exact):
    """A clause the manager adds (section, title, text) or an optional standard clause
    included by its id."""

    id: str | None = None
    section: str | None = None
    title: str | None = Field(None, max_length=300)
    text: str | None = Field(None, max_length=4000)


class TermsClauseRemove(Exact):
    """A clause removed, with the reason (kept in the history, never shown)."""

    id: str = Field(max_length=300)
    reason: str = Field(max_length=300)


class TermsClauseReplace(Exact):
    """A clause's text replaced, with the reason."""

    id: str = Field(max_length=300)
    text: str = Field(max_length=4000)
    reason: str = Field(max_length=300)
    title: str | None = Field(None, max_length=300)


class TermsClauseChanges(Exact):
    """The manager's changes to the generated document."""

    add: list[TermsClauseAdd] | None = Field(None, max_length=50)
    remove: list[TermsClauseRemove] | None = Field(None, max_length=50)
    replace: list[TermsClauseReplace] | None = Field(None, max_length=50)


OPTION_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class TermsOptionInclude(Exact):
    """An option included in the fee, with the reason (kept in the history, never shown)."""

    id: str = Field(pattern=OPTION_ID_PATTERN)
    reason: str | None = Field(None, max_length=300)


class TermsOptionChanges(Exact):
    """The manager's changes to the options the playbooks offer (proposal.md): options
    added to the offer, withdrawn from it, or included in the fee."""

    offer: list[Annotated[str, Field(pattern=OPTION_ID_PATTERN)]] | None = Field(
        None, max_length=30
    )
    withdraw: list[Annotated[str, Field(pattern=OPTION_ID_PATTERN)]] | None = Field(
        None, max_length=30
    )
    include: list[Annotated[str, Field(pattern=OPTION_ID_PATTERN)] | TermsOptionInclude] | None = (
        Field(None, max_length=30)
    )


def terms_model(terms: TermTable | None = None) -> type[BaseModel]:
    """The ``Terms`` model of a term table: every key optional while the agreement is
    a draft, money as decimal strings, unknown keys refused."""
    terms = terms or table()
    fields: dict[str, Any] = {}
    for row in terms.top:
        if row.type == "fee":
            annotation = _fee(terms)
        elif row.type == "group":
            annotation = _group(terms, row.key)
        elif row.type == "schedule":
            annotation = Annotated[list[TermsInstalment], Field(min_length=1, max_length=24)]
        elif row.type == "clauses":
            annotation = TermsClauseChanges
        elif row.type == "options":
            annotation = TermsOptionChanges
        else:
            annotation = _scalar(row)
        fields[row.key] = _optional(row, annotation)
    model = create_model("Terms", __base__=Exact, **fields)  # type: ignore[call-overload]
    model.__doc__ = (
        "An engagement's terms (shared/spec/terms.md): every key optional while the "
        "agreement is a draft; money as decimal strings."
    )
    return model


Terms = terms_model()
"""The terms model of the shipped term table (what the OpenAPI document shows)."""
