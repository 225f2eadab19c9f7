"""Hypothesis strategies generated from the questionnaire data."""

import datetime as dt

from hypothesis import strategies as st

from onboarding.domain.questionnaire import Question, get_questionnaire


def value_strategy(q: Question):
    """Valid values of one question."""
    if q.type == "text":
        text = st.text(
            # Typed text: no surrogates, no control characters (issue 17 refuses them),
            # no line or paragraph separators, no invisible format characters (issue 27
            # refuses them in names).
            alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
            min_size=1,
            max_size=min(q.max_length or 40, 40),
        ).filter(lambda s: s.strip())
    elif q.type == "email":
        text = st.from_regex(
            r"[a-z][a-z0-9]{0,8}(\.[a-z0-9]{1,5})?@[a-z]{2,10}\.(com|org|io)", fullmatch=True
        )
    elif q.type in ("integer", "scale"):
        lo, hi = q.bounds()
        text = st.integers(lo, hi)
    elif q.type == "choice":
        text = st.sampled_from(list(q.values))
    elif q.type == "multi":
        text = st.lists(st.sampled_from(list(q.values)), unique=True)
    elif q.type == "date":
        text = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)).map(
            dt.date.isoformat
        )
    else:
        text = st.booleans()
    return text if q.required else st.none() | text


def valid_answers():
    """Complete, valid answer sets (hidden questions may carry ignored answers)."""
    q = get_questionnaire()
    return st.fixed_dictionaries(
        {qid: value_strategy(question) for qid, question in q.questions.items()}
    )
