"""Notification fixtures: a real HTTP receiver on 127.0.0.1, customers with endpoints."""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from notifications.services import endpoint_save
from orders.fulfilment import locmem
from orders.tests.test_agent_support import funded_customer


class Receiver:
    """A webhook receiver in a thread: records each POST; can be down, failing or slow."""

    def __init__(self, port: int = 0, *, tls: tuple[str, str] | None = None):
        self.received: list[dict] = []
        self.status = 204
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.received.append(
                        {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _fresh_locmem():
    locmem.reset()
    yield
    locmem.reset()


@pytest.fixture
def hooked_customer(db, receiver):
    customer = funded_customer(balance="100.00")
    endpoint_save(customer=customer, url=receiver.url)
    return customer


@pytest.fixture
def production_urls():
    with override_settings(WEBHOOKS_REQUIRE_HTTPS=True, WEBHOOKS_ALLOW_PRIVATE=False):
        yield
