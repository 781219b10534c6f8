"""Helpers of the alert tests: settings for local receivers, what the receivers recorded."""

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from app.config import Settings

SMTP_USER = "archiver-bot"
SMTP_PASSWORD = "smtp-secret-Zq81"
BOT_TOKEN = "xoxb-secret-token-5521"


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(
    tmp_path: Path, *, email: dict[str, Any] | None = None, slack: dict[str, Any] | None = None
) -> Settings:
    """Settings with only the given alert channels enabled."""
    return Settings(
        app={"work_dir": str(tmp_path / "work")},
        source_files={"run_records_dir": str(tmp_path / "records")},
        artdaq_db={"database_uri": f"filesystemdb://{tmp_path}/db", "fcl_conf_dir": "/nonexistent"},
        ucon_db={
            "server_url": "http://127.0.0.1:9/app",
            "folder_name": "f",
            "object_name": "configuration",
            "writer_user": "w",
            "writer_password": "p",
        },
        reporting={"email": email or {}, "slack": slack or {}},
    )


def email_config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "recipient_email": "shifters@example.org, expert@example.org",
        "sender_email": "archiver@daq.example.org",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        **extra,
    }


def slack_config(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "bot_token": BOT_TOKEN,
        "channel": "#run-archiver-alerts",
        "base_url": base_url,
        **extra,
    }


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)


class Recorder:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(
            envelope.original_content.replace(b"\r\n", b"\n"), policy=policy.default
        )
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.server.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, login)
        )
        return "250 OK"


def authenticator(
    _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=data if ok else None)


@dataclass
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@dataclass
class SlackRequest:
    path: str
    authorization: str | None
    payload: dict[str, Any]


@dataclass
class SlackServer:
    base_url: str
    requests: list[SlackRequest] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=lambda: {"ok": True, "ts": "1700000000.0001"})
