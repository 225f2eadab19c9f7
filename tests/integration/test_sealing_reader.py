"""The seal's quick object-stream reader (rendering.sealing) reads every object of a
real agreement PDF (WeasyPrint's object streams, tagged PDF/UA) exactly as pyHanko's
own reader does, and a sealed agreement keeps its tags and validates."""

from __future__ import annotations

import datetime as dt
import io
import json

from pyhanko.pdf_utils.generic import Reference
from pyhanko.pdf_utils.reader import PdfFileReader

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.rendering import sealing
from onboarding.rendering.pdf import NoCache, render_pdf
from tests.factories import EXAMPLES

DAY = dt.date(2026, 11, 27)


def load(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def serialised(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out, None)
    return out.getvalue()


def test_the_quick_reader_reads_every_object_as_pyhankos_does():
    answers = load("burned-marketer")
    agreement = compose(answers, assess(answers), date=DAY)
    data = render_pdf(agreement, cache=NoCache()).pdf
    ours = sealing._reader_class()(io.BytesIO(data), strict=False)
    theirs = PdfFileReader(io.BytesIO(data), strict=False)
    compared = 0
    for number in range(1, 5000):
        try:
            expected = Reference(number, 0, theirs).get_object()
        except Exception:  # noqa: BLE001, S112 - a free object number
            continue
        got = Reference(number, 0, ours).get_object()
        assert type(got) is type(expected), number
        if not hasattr(expected, "data"):  # streams are read by pyHanko itself
            assert serialised(got) == serialised(expected), number
        compared += 1
    assert compared > 500  # the tagged PDF's structure: many objects in object streams
    assert ours.__dict__.get("_indexed_streams")  # ... which the quick path read

    sealer = sealing.load_sealer(sealing.make_certificate("Brightline Studio Ltd"))
    signed = sealing.seal(data, sealer)
    assert sealing.check(signed, [sealer.certificate]).state == "intact"
    root = PdfFileReader(io.BytesIO(signed)).root
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
