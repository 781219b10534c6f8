"""E-mail alerts through a real SMTP server (aiosmtpd on 127.0.0.1): plain, login, STARTTLS."""

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from notify_support import (
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpServer,
    TlsFiles,
    email_config,
    make_settings,
)

from app.models import Stage
from app.notify.dispatch import notify_failures
from app.notify.mail import send_email
from app.notify.outbox import Outbox

NOW = datetime(2025, 10, 24, 14, 32, 15)


def test_failure_mail_has_the_legacy_headers_and_body(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "daq01")
    settings = make_settings(tmp_path, email=email_config(smtp_server.port))
    result = notify_failures(settings, Stage.MIGRATE, [12501, 12500], now=NOW, outbox=Outbox())
    assert result.sent == ["email"]
    [mail] = smtp_server.received
    assert mail.mail_from == "archiver@daq.example.org"
    assert mail.rcpt_tos == ["shifters@example.org", "expert@example.org"]
    assert mail.message["Subject"] == (
        "Run Record Archiver Migration Errors on daq01 at 2025-10-24 14:32:15"
    )
    assert mail.message["From"] == "archiver@daq.example.org"
    assert mail.message["To"] == "shifters@example.org, expert@example.org"
    assert mail.message.get_content() == (
        "The following runs failed during the migration stage:\n\n12500\n12501\n"
    )
    assert mail.login is None


def test_login_only_when_user_and_password_are_both_set(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    user_only = make_settings(
        tmp_path, email=email_config(smtp_server.port, smtp_user=SMTP_USER)
    ).reporting.email
    send_email(user_only, "s1", "b1")
    both = make_settings(
        tmp_path,
        email=email_config(smtp_server.port, smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD),
    ).reporting.email
    send_email(both, "s2", "b2")
    assert [(m.message["Subject"], m.login) for m in smtp_server.received] == [
        ("s1", None),
        ("s2", SMTP_USER),
    ]


def test_starttls_with_a_verified_certificate_then_login(
    tmp_path: Path,
    smtp_server_factory: Callable[..., SmtpServer],
    tls_files: TlsFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = smtp_server_factory(
        require_starttls=True, tls_context=tls_files.server_context(), auth_required=True
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.cert))
    section = make_settings(
        tmp_path,
        email=email_config(
            server.port, smtp_use_tls=True, smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD
        ),
    ).reporting.email
    send_email(section, "over TLS", "body\n")
    [mail] = server.received
    assert (mail.message["Subject"], mail.login) == ("over TLS", SMTP_USER)


def test_untrusted_certificate_is_refused_logged_and_queued(
    tmp_path: Path,
    smtp_server_factory: Callable[..., SmtpServer],
    tls_files: TlsFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = smtp_server_factory(require_starttls=True, tls_context=tls_files.server_context())
    settings = make_settings(
        tmp_path,
        email=email_config(
            server.port, smtp_use_tls=True, smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD
        ),
    )
    outbox = Outbox()
    with caplog.at_level(logging.DEBUG):
        result = notify_failures(settings, Stage.IMPORT, [5], now=NOW, outbox=outbox)
    assert (result.sent, result.queued, len(outbox)) == ([], ["email"], 1)
    assert server.received == []
    assert "SSLCertVerificationError" in caplog.text
    assert SMTP_PASSWORD not in caplog.text


def test_server_without_starttls_fails_when_tls_is_required(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    section = make_settings(
        tmp_path, email=email_config(smtp_server.port, smtp_use_tls=True)
    ).reporting.email
    with pytest.raises(Exception, match="STARTTLS"):
        send_email(section, "s", "b")
    assert smtp_server.received == []
