"""E-mail alerts over SMTP (stdlib `smtplib`), as the legacy tool sent them (spec/legacy.md §7.2).

STARTTLS verifies the server's certificate (the legacy tool did not; §11 item 24).
"""

import smtplib
import ssl
from email.message import EmailMessage

from app.config import EmailSection

SMTP_TIMEOUT_SECONDS = 10.0


def build_email(section: EmailSection, subject: str, body: str) -> EmailMessage:
    """The message with `From:` and `To:` exactly as configured."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = section.sender_email
    message["To"] = section.recipient_email
    message.set_content(body)
    return message


def send_email(
    section: EmailSection, subject: str, body: str, *, timeout: float = SMTP_TIMEOUT_SECONDS
) -> None:
    """Send one message; raises `smtplib.SMTPException` or `OSError` when it is not accepted."""
    assert section.smtp_host is not None
    message = build_email(section, subject, body)
    with smtplib.SMTP(section.smtp_host, section.smtp_port, timeout=timeout) as smtp:
        if section.smtp_use_tls:
            smtp.starttls(context=ssl.create_default_context())
        if section.smtp_user and section.smtp_password:
            smtp.login(section.smtp_user, section.smtp_password)
        smtp.send_message(message)
