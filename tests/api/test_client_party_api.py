"""The client as a party through the API (issue 23): ``client`` read and written with
``PUT .../terms``, each draft item named under ``problems`` with its field, and a
year-9999 date answered 422 with nothing stored."""

from __future__ import annotations

from tests.factories import example_terms


def test_the_client_as_a_party_through_the_api(api, client, auth, submitted):
    url = f"/api/v1/intakes/{submitted}/terms"
    terms = example_terms("burned-marketer")
    party = terms.pop("client")
    bare = client.put(url, headers=auth, json=terms)
    assert bare.status_code == 200, bare.json
    assert bare.json["draft"] is True
    fields = [p.get("field") for p in bare.json["problems"]]
    assert fields == ["client.legal_name", "client.address"]
    assert any("client.legal_name" in b for b in bare.json["blockers"])

    signed = party | {"signatory": {"name": "Daniel Okafor", "title": "Head of Marketing"}}
    saved = client.put(url, headers=auth, json=terms | {"client": signed})
    assert saved.status_code == 200, saved.json
    assert saved.json["draft"] is False and saved.json["problems"] == []
    assert client.get(url, headers=auth).json["terms"]["client"] == signed

    for bad, field in (
        ({"client": signed, "start_date": "9999-01-12"}, "start_date"),
        ({"client": signed | {"signatory": {"email": "nobody"}}}, "client.signatory.email"),
        ({"client": {**signed, "legal_name": 42}}, "client.legal_name"),
    ):
        refused = client.put(url, headers=auth, json=terms | bad)
        assert refused.status_code == 422, refused.json
        assert [e["field"] for e in refused.json["errors"]] == [field]
    assert client.get(url, headers=auth).json["terms"]["client"] == signed  # nothing stored
    assert client.get(url, headers=auth).json["terms"]["start_date"] == terms["start_date"]
