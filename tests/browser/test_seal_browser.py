"""Issue 29 in a browser: an agreement accepted on its page gives a PDF sealed by the
agency (pyHanko's validator: intact over the entire file, the server's certificate),
and the public verification page, opened from the certificate's short link, says
"genuine, version 1, accepted" for it and "not a document we issued" for a changed
copy, with no serious axe violation."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from onboarding.rendering import sealing
from tests.browser.checks import no_serious_violations
from tests.browser.steps import accept, sent_agreement

pytestmark = pytest.mark.browser


def server_certificates(tmp_path_factory):
    """The live server's self-signed certificate (made in its instance folder)."""
    paths = list(tmp_path_factory.getbasetemp().glob("live-instance*/signing.p12"))
    assert paths, "the live server made no signing certificate"
    return [sealing.load_sealer(path.read_bytes()).certificate for path in paths]


def test_an_accepted_pdf_is_sealed_and_the_public_page_checks_it(
    browser, live_server, app, tmp_path, tmp_path_factory
):
    sent = sent_agreement(app, "seal@agency.example", email=True)  # the emails go too
    token, document_id = sent.token, sent.document_id

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    accept(page, "Priya Raman")
    if "We are preparing your signed copy" in page.inner_text("main"):
        page.get_by_text("Your signed copy is ready").wait_for(timeout=90_000)
    with page.expect_download() as info:
        page.locator(".signing-banner a").first.click()
    accepted = tmp_path / "accepted.pdf"
    info.value.save_as(accepted)
    data = accepted.read_bytes()

    certificates = server_certificates(tmp_path_factory)
    embedded = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    context_ = ValidationContext(trust_roots=certificates, allow_fetching=False)
    # pyHanko's synchronous call runs its own event loop: not in Playwright's thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(validate_pdf_signature, embedded, context_).result()
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"

    # The certificate page's short link (the QR code's) opens the public page.
    link = f"/v/{document_id}"
    assert link in PdfReader(io.BytesIO(data)).pages[-1].extract_text().replace("\n", "")
    page.goto(live_server + link)
    assert page.get_by_label("Document id").input_value() == document_id
    no_serious_violations(page)
    page.get_by_label("PDF file").set_input_files(str(accepted))
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()
    assert "Genuine: version 1, accepted" in page.inner_text("main")
    assert "Priya Raman" not in page.inner_text("main")
    no_serious_violations(page)

    changed = tmp_path / "changed.pdf"
    changed.write_bytes(data[:1000] + b"X" + data[1001:])
    page.get_by_label("PDF file").set_input_files(str(changed))
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()
    assert "Not a document we issued" in page.inner_text("main")
    context.close()
