"""Check that a webhook came from Onboarding: the documented snippet, standard library only.

Every delivery carries ``Onboarding-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 of ``"{t}.{raw body}"`` under the endpoint's secret. A receiver copies
:func:`verify` (the README and /api/docs quote it from this file) and calls it with the
raw request body, before parsing it.
"""

import hashlib
import hmac
import json
import time


class InvalidSignature(Exception):
    """The delivery is not from Onboarding, was altered, or is too old (a replay)."""


def verify(secret, body, header, tolerance=300, now=None):
    """Return the event (a dict) if ``header`` signs ``body``; raise InvalidSignature if not.

    secret:    the endpoint's signing secret (``whsec_...``), as shown when registered
    body:      the raw request body, bytes, exactly as received
    header:    the value of the ``Onboarding-Signature`` header
    tolerance: seconds a delivery stays acceptable (older ones are replays): 5 minutes
    """
    try:
        items = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(value for key, value in items if key.strip() == "t"))
        signatures = [value.strip() for key, value in items if key.strip() == "v1"]
    except (AttributeError, ValueError, StopIteration):
        raise InvalidSignature("malformed Onboarding-Signature header") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance: a replay or a wrong clock")
    signed = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise InvalidSignature("signature does not match")
    return json.loads(body)
