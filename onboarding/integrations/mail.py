"""Email over SMTP: build one message from an outbox row, hand it to the mail server,
and say what the server answered.

Standard library only (``email`` and ``smtplib``), not Flask-Mailman: the messages are
composed by the services, which never import Flask, and Flask-Mailman builds a message
only inside an app context with its extension installed (``EmailMessage`` reads
``current_app.extensions["mailman"]``); and the outbox page shows the server's own
answer to each message (``250 2.0.0 queued as ...``, ``550 5.1.1 unknown user``), which
a Django-style backend swallows (``send_messages`` returns a count). What Flask-Mailman
would add here, headers that refuse line breaks, encoded names and punycode domains,
the ``email`` package does under ``policy.SMTP``.

:func:`send` opens one connection per message (plain, STARTTLS or implicit TLS, with
``MAIL_TIMEOUT`` on every step), and classifies the outcome: ``sent`` on the server's
250 to the data; ``retry`` on a temporary refusal (4xx), a timeout, a refused or dropped
connection; ``failed`` on a permanent refusal (5xx: an unknown recipient, a rejected
sender, a failed sign-in) or an address that is not one. With no ``MAIL_SERVER`` nothing
is sent: :func:`log_written` logs that the message was written (to whom, which kind;
never its body, whose links are private) and it stays readable on the Outbox page.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

log = logging.getLogger(__name__)

MAX_ANSWER = 500


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the mail server (the ``MAIL_*`` settings)."""

    host: str | None
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # TLS from the first byte (port 465)
    timeout: float = 10.0
    helo: str = "localhost"

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        """The settings of an app's config (a mapping)."""
        host = (config.get("MAIL_SERVER") or "").strip() or None
        use_ssl = bool(config.get("MAIL_USE_SSL"))
        use_tls = bool(config.get("MAIL_USE_TLS"))
        default_port = 465 if use_ssl else 587 if use_tls else 25
        sender = parseaddr(config.get("MAIL_DEFAULT_SENDER") or "")[1]
        return cls(
            host=host,
            port=int(config.get("MAIL_PORT") or default_port),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            use_tls=use_tls,
            use_ssl=use_ssl,
            timeout=float(config.get("MAIL_TIMEOUT") or 10),
            helo=(sender.rpartition("@")[2] or "localhost"),
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: ``sent``, ``retry`` (try again later) or ``failed``
    (for good); ``code`` and ``answer`` are the server's (or the error's) words."""

    state: Literal["sent", "retry", "failed"]
    code: int | None
    answer: str


class BadAddress(ValueError):
    """An address that is not one (shown on the Outbox page as the reason)."""


def check_address(address: str) -> str:
    """``address`` if it is a valid email address (syntax only, no DNS); else BadAddress."""
    try:
        return validate_email(address or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadAddress(f"not a valid email address: {exc}") from None


def header_address(value: str) -> Address | str:
    """A ``Name <addr>`` string as a header address (a bare address stays a string)."""
    name, addr = parseaddr(value or "")
    if not addr:
        raise BadAddress(f"not a valid email address: {value!r}")
    if not name:
        return addr
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def build(row: Any) -> EmailMessage:
    """The MIME message of an outbox row: text, and HTML as its alternative.

    ``row`` has ``from_address``, ``to_address``, ``to_name``, ``reply_to``, ``subject``,
    ``text``, ``html``, ``headers`` (extra headers) and ``message_id``. Raises BadAddress.
    """
    to = check_address(row.to_address)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = header_address(row.from_address)
    message["To"] = formataddr((row.to_name or "", to)) if row.to_name else to
    if row.reply_to:
        message["Reply-To"] = header_address(row.reply_to)
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    attachment = getattr(row, "attachment", None)
    if attachment:
        name = getattr(row, "attachment_name", None) or "attachment.pdf"
        maintype, subtype = (
            ("application", "pdf")
            if name.lower().endswith(".pdf")
            else (
                "application",
                "octet-stream",
            )
        )
        message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=name)
    return message


def _answer(code: int | None, text: bytes | str | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    words = " ".join((text or "").split())
    return (f"{code} {words}" if code is not None else words)[:MAX_ANSWER]


def _refused(code: int, text: bytes | str) -> Outcome:
    """A server's refusal: temporary (4xx) is retried, permanent (5xx) is not."""
    state = "retry" if 400 <= code < 500 else "failed"
    return Outcome(state, code, _answer(code, text))


def send(message: EmailMessage, server: SmtpSettings) -> Outcome:
    """Hand one message to ``server`` (one connection); never raises for the server's
    or the network's doing: every outcome is an :class:`Outcome`."""
    sender = parseaddr(str(message["From"]))[1]
    recipient = parseaddr(str(message["To"]))[1]
    utf8 = not (sender.isascii() and recipient.isascii())
    context = ssl.create_default_context()
    kind = smtplib.SMTP_SSL if server.use_ssl else smtplib.SMTP
    extra: dict[str, Any] = {"context": context} if server.use_ssl else {}
    smtp = None
    try:
        smtp = kind(
            server.host, server.port, local_hostname=server.helo, timeout=server.timeout, **extra
        )
        smtp.ehlo_or_helo_if_needed()
        if server.use_tls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
        options = []
        if utf8:
            if not smtp.has_extn("smtputf8"):
                return Outcome("failed", None, "the server does not take international addresses")
            options = ["SMTPUTF8"]
        code, text = smtp.mail(sender, options)
        if code != 250:
            return _refused(code, text)
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            return _refused(code, text)
        body = message.as_bytes(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
        code, text = smtp.data(body)  # raises only if the server refuses to start
        if code != 250:
            return _refused(code, text)
        return Outcome("sent", code, _answer(code, text))
    except smtplib.SMTPResponseException as exc:  # data, sign-in, STARTTLS refused
        if exc.smtp_code == -1:  # smtplib's "no answer"
            return Outcome("retry", None, _answer(None, exc.smtp_error))
        return _refused(exc.smtp_code, exc.smtp_error)
    except smtplib.SMTPNotSupportedError as exc:
        return Outcome("failed", None, _answer(None, f"the server does not support it: {exc}"))
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, TLS, disconnected
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            # (smtplib reports a timed-out read as a disconnection)
            return Outcome("retry", None, f"no answer from {server.host} in {server.timeout:g} s")
        return Outcome("retry", None, _answer(None, f"{type(exc).__name__}: {exc}"))
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def log_written(message_id: int, kind: str, to_address: str) -> None:
    """The log line of a message written while no mail server is configured: whom it is
    for and which kind, never its body (its links are private)."""
    log.info(
        "mail %s (%s) to %s written, not sent: no MAIL_SERVER is set; "
        "admins read it whole on the workspace's Outbox page",
        message_id,
        kind,
        to_address,
    )
