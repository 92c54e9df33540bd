"""How a message leaves: over SMTP (DHR_SMTP_HOST), or as an .eml file under DHR_MAIL_DIR."""
from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path

from app.core import faults
from app.core.config import Settings


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx reply): retrying will not help."""


@dataclass(frozen=True)
class Outgoing:
    id: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    created_at: dt.datetime


# Headers unfolded up to RFC 5322's limit: Python folds a long subject right after "Subject:",
# which some clients show with a leading space.
POLICY = default_policy.clone(max_line_length=998)


def build(message: Outgoing, mail_from: str) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["From"] = mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class _Smtp(smtplib.SMTP):
    """smtplib's client, with the fault point dispatch.during_data: the message half-written inside DATA."""

    def send(self, s):
        # smtplib.SMTP.data() writes the whole message, ending "\r\n.\r\n", in one call.
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and faults.armed("dispatch.during_data"):
            super().send(s[: len(s) // 2])
            faults.point("dispatch.during_data")
        super().send(s)


class SmtpSender:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def describe(self) -> str:
        return f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}"

    def open(self) -> None:
        s = self.settings
        smtp = _Smtp(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp

    def send(self, message: Outgoing) -> None:
        assert self.smtp is not None
        try:
            self.smtp.send_message(build(message, self.settings.mail_from))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values())
            if all(code >= 500 for code, _ in replies):
                code, reply = replies[0]
                # The reply, not the address: this text reaches the log.
                raise PermanentFailure(f"the server refused the recipient: {code} {_text(reply)}") from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"the server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


class FolderSender:
    """Without an SMTP server (development, demonstrations), each message is a file to open in a mail client."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.directory: Path = settings.mail_dir

    def describe(self) -> str:
        return f"the folder {self.directory}"

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Outgoing) -> None:
        name = f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"
        partial = self.directory / f".{name}.partial"
        partial.write_bytes(bytes(build(message, self.settings.mail_from)))
        os.replace(partial, self.directory / name)  # a crash leaves no half-written message

    def close(self) -> None:
        pass


def sender_for(settings: Settings) -> SmtpSender | FolderSender:
    return SmtpSender(settings) if settings.smtp_host else FolderSender(settings)
