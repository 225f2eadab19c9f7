"""GET /api/v1/intakes/{public_id}/proposal.pdf: the proposal letter, in the OpenAPI
document like the agreement's PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.factories import example_terms


def test_the_proposal_pdf_is_a_letter_with_the_options(client, auth, submitted):
    put = client.put(f"/api/v1/intakes/{submitted}/terms", json=example_terms(), headers=auth)
    assert put.status_code == 200, put.json
    response = client.get(f"/api/v1/intakes/{submitted}/proposal.pdf", headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert "Proposal - Harbour Freight Logistics - " in response.headers["Content-Disposition"]
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert 2 <= len(pages) <= 4
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pages)
    assert "Priority replies" in text and "£450.00 a month" in text
    assert "What happens next" in text
    bad = client.get(f"/api/v1/intakes/{submitted}/proposal.pdf?paper=a3", headers=auth)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "paper"


def test_no_proposal_before_submission_and_in_the_openapi_document(client, auth):
    missing = client.get("/api/v1/intakes/nope/proposal.pdf", headers=auth)
    assert missing.status_code == 404 and missing.is_json
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/intakes/{public_id}/proposal.pdf"]["get"]
    assert op["operationId"] == "getProposalPdf"
    assert "application/pdf" in op["responses"]["200"]["content"]
