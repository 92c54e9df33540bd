"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), and a fixture pointing the app at it.

    def test_x(smtp):            # the server is running; DHR_SMTP_HOST/PORT point at it
        ... run `dhr sweep --on ...` ...
        [m["To"] for m in smtp.take()]
        smtp.stop(); ...; smtp.start()   # the same port, for outage tests
        smtp.refuse("x@example")         # 550 for that recipient
"""
from __future__ import annotations

import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, server: "MailServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.server.refused:
            # As real servers do, the refusal quotes the address: it must not reach the logs.
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        with self.server.lock:
            self.server.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refused: set[str] = set()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def take(self) -> list[EmailMessage]:
        """The messages received since the last take, in arrival order."""
        with self.lock:
            messages = [m for _f, _r, m in self.received]
            self.received.clear()
        return messages

    def envelopes(self) -> list[tuple[str, list[str], EmailMessage]]:
        with self.lock:
            return list(self.received)
