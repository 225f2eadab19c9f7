"""Hostile input to every form: never a 5xx, and a refused value names its field."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.domain.questionnaire import get_questionnaire
from tests.factories import csrf_of, login, post
from tests.web.helpers import Prospect

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hostile_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),  # control characters
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "{{ 7*7 }}",
            "' OR 1=1 --",
            "\x00",
            "9" * 400,
            "-1",
            "1e9",
            "NaN",
            "yes",
            "x" * 3000,
            "\u202e\u0000\ud7ff",
            "😀" * 10,
        ]
    ),
)
SECTIONS = [s.id for s in get_questionnaire().sections]


def field_values(section_id):
    """Form data for a section: any subset of its fields, repeated, with hostile values."""
    ids = [q.id for q in get_questionnaire().section(section_id).questions]
    return st.dictionaries(
        st.sampled_from(ids + ["unknown_field"]), st.lists(hostile_text, max_size=3)
    )


@pytest.mark.parametrize("section_id", SECTIONS)
def test_every_step_survives_hostile_input(client, section_id):
    prospect = Prospect(client)
    prospect.start()
    url = prospect.url(f"/step/{section_id}")
    token = csrf_of(client.get(url).text)

    @FUZZ
    @given(field_values(section_id))
    def check(data):
        response = client.post(url, data={**data, "csrf_token": token, "action": "next"})
        assert response.status_code < 500
        if response.status_code == 422:
            for qid in re.findall(r'<a href="#([a-z_]+?)(?:-0)?">', response.text):
                assert qid in {q.id for q in get_questionnaire().section(section_id).questions}

    check()


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["email", "password", "x"]), st.lists(hostile_text, max_size=2))
)
def test_sign_in_survives_hostile_input(client, data):
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={**data, "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert response.status_code in (401, 429)


def test_workspace_forms_survive_hostile_input(client, staff, submitted):
    login(client, staff["admin"])
    url = f"/workspace/intakes/{submitted}"
    targets = [
        (url + "/override", ["score", "recommendation", "reason"]),
        (url + "/notes", ["note"]),
        (url + "/status", ["status"]),
        (url + "/owner", ["owner"]),
        (url + "/actions/x", ["done"]),
        ("/workspace/invites", ["name", "email", "company", "note"]),
        ("/workspace/users", ["email", "role", "password", "name"]),
    ]

    @FUZZ
    @given(st.sampled_from(targets), st.data())
    def check(target, data):
        path, names = target
        fields = data.draw(st.dictionaries(st.sampled_from(names), hostile_text))
        response = post(client, path, fields, url)
        assert response.status_code < 500, (path, fields)

    check()


def test_list_parameters_survive_hostile_input(client, staff, submitted):
    login(client, staff["manager"])
    names = ["q", "band", "status", "owner", "from", "to", "sort", "dir", "page", "limit"]

    @FUZZ
    @given(st.dictionaries(st.sampled_from(names), hostile_text))
    def check(params):
        for path in ("/workspace/", "/workspace/drafts", "/workspace/export.csv"):
            response = client.get(path, query_string=params)
            assert response.status_code < 500, (path, params)
            response.close()

    check()
