"""https callbacks: the POST goes to the checked address, with SNI and the certificate checked
against the host name (not the address)."""

import shutil
import socket
import subprocess

import pytest

from notifications.delivery import deliver_due
from notifications.models import Delivery
from notifications.services import endpoint_save
from notifications.tests.conftest import Receiver
from notifications.tests.test_delivery import run_agent_once
from orders.tests.test_agent_support import funded_customer, place

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make a certificate"),
]


def certificate(tmp_path, name: str) -> tuple[str, str]:
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def resolve_to_localhost(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host.endswith(".example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(("served", "trusted"), [("hooks.example.com", True), ("evil.test", False)])
def test_https_delivery_checks_the_certificate_for_the_host_name(
    tmp_path, settings, resolve_to_localhost, served, trusted
):
    cert, key = certificate(tmp_path, served)
    settings.WEBHOOKS_CA_BUNDLE = cert
    receiver = Receiver(tls=(cert, key))
    try:
        customer = funded_customer()
        endpoint_save(customer=customer, url=f"https://hooks.example.com:{receiver.port}/h")
        place(customer)
        run_agent_once()
        assert deliver_due() == 1
        delivery = Delivery.objects.get()
        if trusted:
            assert delivery.status == Delivery.Status.DELIVERED, delivery.last_error
            [received] = receiver.received
            assert received["headers"]["host"] == f"hooks.example.com:{receiver.port}"
        else:  # a certificate for another name: refused, nothing sent
            assert delivery.status == Delivery.Status.PENDING
            assert "SSLError" in delivery.last_error
            assert receiver.received == []
    finally:
        receiver.stop()
