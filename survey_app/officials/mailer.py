"""Sending letters through the province's mail server (SMTP_* settings) with the standard library's smtplib.

Blocking by nature: callers run `send_letters` in a thread. One connection carries a batch; each letter's outcome
is reported by its key (a sample member id), never by its address: a refusal's text from the mail server often
repeats the address ("550 <bob@…>: user unknown"), so every address is cut out of it before anyone sees or
stores it.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from survey_app.core.settings import SmtpSettings

TIMEOUT_SECONDS = 30
ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")
HIDDEN = "(địa chỉ)"


@dataclass(frozen=True)
class Letter:
    key: int  # the sample member's id: what the outcome is reported under
    address: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    key: int
    refused: str = ""  # why the letter did not go, without any address; "" when the server took it

    @property
    def accepted(self) -> bool:
        return not self.refused


def without_addresses(text: str, address: str = "") -> str:
    """A mail server's answer with the recipient's address, and anything else shaped like one, cut out."""
    if address:
        text = re.sub(re.escape(address), HIDDEN, text, flags=re.IGNORECASE)
    return ADDRESS_LIKE.sub(HIDDEN, text).strip()[:500]


def server_text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def refusal(error: Exception, address: str) -> str:
    """The Vietnamese reason for a failed letter, with the server's code and words (address removed)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()), (0, b""))
        return without_addresses(f"Máy chủ thư từ chối người nhận ({code} {server_text(message)})", address)
    if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return without_addresses(f"Máy chủ thư từ chối thư ({error.smtp_code} {server_text(error.smtp_error)})",
                                 address)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "Máy chủ thư không nhận tài khoản SMTP_USER/SMTP_PASSWORD."
    return without_addresses(f"Không gửi được qua máy chủ thư ({type(error).__name__}: {error})", address)


def message_of(smtp: SmtpSettings, letter: Letter) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = Address(addr_spec=letter.address)
    message["Subject"] = letter.subject
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2].strip(">") or None)
    message.set_content(letter.body, charset="utf-8")
    return message


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.security == "tls":
        connection = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        if smtp.security == "starttls":
            connection.starttls(context=context)
    if smtp.user:
        connection.login(smtp.user, smtp.password)
    return connection


def send_letters(smtp: SmtpSettings, letters: list[Letter]) -> list[Outcome]:
    """Send each letter over one connection; one outcome per letter, in order. A connection that cannot be opened
    or is lost fails the letters not yet sent, each with the reason."""
    outcomes: list[Outcome] = []
    try:
        connection = connect(smtp)
    except (OSError, smtplib.SMTPException) as error:
        return [Outcome(letter.key, refusal(error, letter.address)) for letter in letters]
    try:
        for letter in letters:
            try:
                connection.send_message(message_of(smtp, letter))
                outcomes.append(Outcome(letter.key))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                    ValueError) as error:
                outcomes.append(Outcome(letter.key, refusal(error, letter.address)))
                connection.rset()
    except (OSError, smtplib.SMTPException) as error:
        outcomes += [Outcome(letter.key, refusal(error, letter.address)) for letter in letters[len(outcomes):]]
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return outcomes
