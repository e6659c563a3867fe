"""Ops fixtures: a real SMTP server and a real HTTP webhook receiver on loopback, a paper market at a known time."""

from __future__ import annotations

import email
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ops_support import T0, make_bars, make_instance


@pytest.fixture(autouse=True)
def clean_log_context():
    """Outside a task or a request nothing clears the log context: each test starts without one."""
    from ops.logs import log_context_replace

    log_context_replace(None)
    yield
    log_context_replace(None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for _, message in self.messages]

    @staticmethod
    def text(message: email.message.Message) -> str:
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
        return ""


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"mailto://127.0.0.1:{port}?from=trader@example.com&to=alice@example.com&mode=insecure"
    yield mailbox
    controller.stop()


class Webhook:
    """Records each JSON POST; answers ``status`` (set it to 500 to make the channel fail)."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.status < 400:
                    outer.posts.append(json.loads(body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def titles(self) -> list[str]:
        return [p["title"] for p in self.posts]


@pytest.fixture
def webhook():
    hook = Webhook()
    hook.thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def market(transactional_db, paper_account, eurusd):
    """Alice's paper account whose simulated clock is T0, EURUSD bars at 1.10000 up to T0, one instance."""
    make_bars(eurusd, T0 - timedelta(minutes=30), 30)
    paper_account.paper_processed_until = T0
    paper_account.save()
    return paper_account, make_instance(paper_account, eurusd, 101, "MA cross")
