"""The mail server connection of SMTP_SECURITY=starttls and tls, with SMTP_USER/SMTP_PASSWORD, against aiosmtpd on
loopback with a certificate made for the test: letters go when the certificate is trusted and the account is right,
and are refused with a Vietnamese reason (no address in it) when the certificate is not trusted or the password is
wrong. Nothing is ever sent over a connection whose certificate was not verified."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from survey_app.core.settings import SmtpSettings
from survey_app.officials import mailer
from tests.app.test_dockerfile import free_port
from tests.app.test_invitations import Mailbox

# the implicit-TLS server below tells aiosmtpd not to look for STARTTLS before AUTH; it warns about that
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
USER, PASSWORD = "khaosat", "mat-khau-thu"
LETTER = mailer.Letter(1, "can.bo@tls.example.vn", "Thư mời", "Nội dung thư")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (openssl, as every Debian image has it)."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(server, session, envelope, mechanism, auth_data):
    right = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=right, handled=False)  # handled=False: aiosmtpd answers the refusal (535) itself


@pytest.fixture
def starttls_server(certificate):
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def tls_server(certificate):
    box, port = Mailbox(), free_port()
    # aiosmtpd offers AUTH on implicit TLS only when told the connection is safe (it looks for STARTTLS)
    controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=server_context(certificate),
                            authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller.start()
    yield box, port
    controller.stop()


def smtp(port: int, security: str, password: str = PASSWORD) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security=security, user=USER, password=password,
                        sender="Sở Nội vụ <khaosat@snv.example.gov.vn>")


@pytest.mark.parametrize("server_fixture, security", [("starttls_server", "starttls"), ("tls_server", "tls")])
def test_a_trusted_server_with_the_right_account_takes_the_letter(server_fixture, security, certificate, request,
                                                                  monkeypatch):
    box, port = request.getfixturevalue(server_fixture)
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # the test's certificate is the only one trusted
    assert mailer.send_letters(smtp(port, security), [LETTER]) == [mailer.Outcome(1)]
    assert [message["To"] for message in box.messages] == [LETTER.address]
    assert box.messages[0]["Subject"] == "Thư mời"


@pytest.mark.parametrize("server_fixture, security", [("starttls_server", "starttls"), ("tls_server", "tls")])
def test_an_untrusted_certificate_sends_nothing(server_fixture, security, request):
    box, port = request.getfixturevalue(server_fixture)
    [outcome] = mailer.send_letters(smtp(port, security), [LETTER])
    assert "Không gửi được qua máy chủ thư" in outcome.refused and "CERTIFICATE_VERIFY_FAILED" in outcome.refused
    assert box.messages == []


def test_a_wrong_password_is_said_plainly(starttls_server, certificate, monkeypatch):
    box, port = starttls_server
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    [outcome] = mailer.send_letters(smtp(port, "starttls", password="sai"), [LETTER])
    assert outcome.refused == "Máy chủ thư không nhận tài khoản SMTP_USER/SMTP_PASSWORD."
    assert box.messages == [] and "sai" not in outcome.refused
