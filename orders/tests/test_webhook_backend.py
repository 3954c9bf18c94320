"""The webhook fulfilment backend against a local fake supplier, and the HMAC signing helpers."""

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from orders.fulfilment import Outcome, get_backend, signing, webhook
from orders.fulfilment.webhook import SupplierUnavailable, WebhookBackend

SECRET = "s3cret-shared-with-the-supplier"
NUMBER = "20261124081930123456"
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


@dataclass
class Reply:
    """One scripted answer of the fake supplier."""

    status: int = 200
    body: object = b""
    delay: float = 0.0
    headers: tuple = ()
    trickle: float = 0.0  # pause between single body bytes


@dataclass
class Received:
    """One request as the fake supplier saw it."""

    method: str
    path: str
    headers: dict
    body: bytes
    signature_ok: bool

    def json(self):
        """The decoded JSON body."""
        return json.loads(self.body)


class FakeSupplier:
    """A scriptable supplier: answers from a queue, checks every signature, records every request."""

    def __init__(self, url: str):
        self.url = url
        self.replies = deque()
        self.requests = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def reply(self, status=200, body=b"", *, delay=0.0, headers=(), trickle=0.0, times=1):
        """Queue ``times`` identical answers."""
        for _ in range(times):
            self.replies.append(Reply(status, body, delay, tuple(headers), trickle))

    def answer(self, status="completed", delivered=10, *, times=1, delay=0.0, **fields):
        """Queue a 200 answer in the supplier's JSON contract."""
        payload = {"status": status, "delivered": delivered, "baseline": None}
        payload |= {"reference": "", "message": ""} | fields
        self.reply(200, payload, delay=delay, times=times)

    def next_reply(self) -> Reply:
        """The next scripted answer; a 500 if the test did not script enough of them."""
        with self.lock:
            if self.replies:
                return self.replies.popleft()
        return Reply(500, {"message": "no scripted reply left"})


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        signature_ok = signing.verify(
            SECRET,
            self.headers.get(signing.TIMESTAMP_HEADER),
            body,
            self.headers.get(signing.SIGNATURE_HEADER),
        )
        with fake.lock:
            fake.requests.append(
                Received(self.command, self.path, dict(self.headers), body, signature_ok)
            )
        reply = fake.next_reply() if signature_ok else Reply(401, {"message": "bad signature"})
        if reply.delay:
            # Event.wait rather than sleep so teardown does not wait out a long delay.
            fake.stopping.wait(reply.delay)
        content = reply.body
        if isinstance(content, dict | list):
            content = json.dumps(content).encode()
        elif isinstance(content, str):
            content = content.encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if not reply.trickle:
                self.wfile.write(content)
            for index in range(len(content) if reply.trickle else 0):
                self.wfile.write(content[index : index + 1])
                self.wfile.flush()
                if fake.stopping.wait(reply.trickle):
                    break
        except OSError:
            pass  # the client gave up (timeout test); nothing to answer any more

    def log_message(self, format, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is expected, not worth a traceback


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    """urllib honours *_proxy variables; these tests must only ever talk to 127.0.0.1 directly."""
    for variable in PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def supplier():
    """A fake supplier listening on 127.0.0.1 on a free port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.fake = FakeSupplier(f"http://{host}:{port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server.fake
    server.fake.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def make_backend(supplier, **options):
    """A backend pointed at the fake supplier with test-sized timeouts."""
    config = {"url": supplier.url + "/orders", "secret": SECRET}
    config |= {"timeout": 2, "retries": 2, "backoff": 0.01} | options
    return WebhookBackend(name="acme", **config)


def make_order(quantity=10, supplier_reference=""):
    """A plain object with the attributes a backend may read."""
    return SimpleNamespace(
        number=NUMBER,
        target="https://example.cn/post/1",
        quantity=quantity,
        supplier_reference=supplier_reference,
        service=SimpleNamespace(name="likes"),
    )


# --- execute: the request -------------------------------------------------------------------


def test_execute_posts_the_signed_json_contract(supplier):
    supplier.answer("completed", 10)

    make_backend(supplier).execute(make_order())

    [request] = supplier.requests
    assert request.method == "POST"
    assert request.path == "/orders"
    assert request.signature_ok
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[signing.IDEMPOTENCY_HEADER] == NUMBER
    assert request.json() == {
        "order_number": NUMBER,
        "target": "https://example.cn/post/1",
        "quantity": 10,
        "service": "likes",
        "callback_path": "/fulfilment/callback/",
    }


def test_every_attempt_is_signed_and_carries_the_order_number_as_idempotency_key(supplier):
    supplier.reply(503)
    supplier.reply(502)
    supplier.answer("completed", 10)

    make_backend(supplier).execute(make_order())

    assert len(supplier.requests) == 3
    assert all(request.signature_ok for request in supplier.requests)
    assert {r.headers[signing.IDEMPOTENCY_HEADER] for r in supplier.requests} == {NUMBER}
    assert len({request.body for request in supplier.requests}) == 1


def test_a_wrong_secret_is_refused_by_the_supplier_and_fails_without_retry(supplier):
    backend = make_backend(supplier, secret="not-the-shared-secret")

    result = backend.execute(make_order())

    [request] = supplier.requests
    assert not request.signature_ok
    assert result.outcome == Outcome.FAILED
    assert "401" in result.text


# --- execute: mapping the answer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "delivered", "outcome"),
    [
        ("completed", 10, Outcome.COMPLETED),
        ("partial", 4, Outcome.PARTIAL),
        ("failed", 0, Outcome.FAILED),
        ("accepted", 0, Outcome.ACCEPTED),
    ],
)
def test_answers_map_to_results(supplier, status, delivered, outcome):
    supplier.answer(status, delivered, baseline=1234, reference="SUP-77", message="done")

    result = make_backend(supplier).execute(make_order(quantity=10))

    assert result.outcome == outcome
    assert result.delivered_quantity == delivered
    assert result.baseline_count == 1234
    assert result.supplier_reference == "SUP-77"
    assert result.message == "done"
    assert len(supplier.requests) == 1


def test_optional_fields_may_be_null_or_missing(supplier):
    supplier.reply(200, {"status": "completed", "delivered": 10, "reference": None})

    result = make_backend(supplier).execute(make_order())

    assert result.outcome == Outcome.COMPLETED
    assert (result.baseline_count, result.supplier_reference, result.message) == (None, "", "")


# --- execute: retries and failures -----------------------------------------------------------


def test_retries_on_5xx_then_succeeds(supplier):
    supplier.reply(500)
    supplier.reply(503, {"message": "maintenance"})
    supplier.answer("partial", 3)

    result = make_backend(supplier, retries=3).execute(make_order())

    assert result.outcome == Outcome.PARTIAL
    assert result.delivered_quantity == 3
    assert len(supplier.requests) == 3


def test_retries_on_timeout_then_succeeds(supplier):
    supplier.answer("completed", 10, delay=1.0)
    supplier.answer("completed", 10)

    started = time.monotonic()
    result = make_backend(supplier, timeout=0.3, retries=1).execute(make_order())

    assert result.outcome == Outcome.COMPLETED
    assert len(supplier.requests) == 2
    assert 0.3 <= time.monotonic() - started < 1.0


def test_an_answer_trickling_in_past_the_timeout_is_cut_off(supplier):
    # Each byte arrives well within the per-read timeout, the whole answer far beyond it.
    supplier.reply(200, _answer(), trickle=0.05, times=2)

    started = time.monotonic()
    with pytest.raises(SupplierUnavailable, match="timeout"):
        make_backend(supplier, timeout=0.3, retries=1).execute(make_order())

    assert time.monotonic() - started < 1.5


def test_a_slow_answer_within_the_timeout_succeeds(supplier):
    supplier.answer("completed", 10, delay=0.3)

    result = make_backend(supplier, timeout=1.0, retries=0).execute(make_order())

    assert result.outcome == Outcome.COMPLETED
    assert len(supplier.requests) == 1


def test_exhausted_retries_on_5xx_raise_supplier_unavailable(supplier):
    supplier.reply(503, times=3)

    with pytest.raises(SupplierUnavailable, match="HTTP 503"):
        make_backend(supplier, retries=2).execute(make_order())

    assert len(supplier.requests) == 3


def test_exhausted_retries_on_timeouts_raise_supplier_unavailable(supplier):
    supplier.answer("completed", 10, delay=1.0, times=2)

    started = time.monotonic()
    with pytest.raises(SupplierUnavailable):
        make_backend(supplier, timeout=0.3, retries=1).execute(make_order())

    assert len(supplier.requests) == 2
    assert time.monotonic() - started < 1.5


def test_an_unreachable_supplier_raises_supplier_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there any more: every attempt is refused.
    backend = WebhookBackend(
        name="acme", url=f"http://127.0.0.1:{port}/orders", secret=SECRET, retries=1, backoff=0
    )

    with pytest.raises(SupplierUnavailable, match="2 attempt"):
        backend.execute(make_order())


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_a_4xx_is_failed_at_once_without_retry(supplier, status):
    supplier.reply(status, {"message": "target is private"})

    result = make_backend(supplier).execute(make_order())

    assert result.outcome == Outcome.FAILED
    assert result.delivered_quantity == 0
    assert f"HTTP {status}" in result.text
    assert "target is private" in result.text
    assert len(supplier.requests) == 1


@pytest.mark.parametrize("status", [409, 429])
def test_transient_4xx_are_retried(supplier, status):
    supplier.reply(status)
    supplier.answer("completed", 10)

    result = make_backend(supplier).execute(make_order())

    assert result.outcome == Outcome.COMPLETED
    assert len(supplier.requests) == 2


def test_redirects_are_not_followed(supplier):
    supplier.reply(302, headers=[("Location", supplier.url + "/elsewhere")], times=2)

    with pytest.raises(SupplierUnavailable, match="HTTP 302"):
        make_backend(supplier, retries=1).execute(make_order())

    assert [request.path for request in supplier.requests] == ["/orders", "/orders"]


def _answer(**fields):
    return json.dumps({"status": "completed", "delivered": 10, **fields}).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>Bad gateway</html>", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(_answer(status="shipped"), id="unknown-status"),
        pytest.param(_answer(status=None), id="no-status"),
        pytest.param(_answer(delivered=11), id="delivered-above-quantity"),
        pytest.param(_answer(status="partial", delivered=-1), id="negative-delivered"),
        pytest.param(json.dumps({"status": "completed"}).encode(), id="missing-delivered"),
        pytest.param(_answer(delivered="10"), id="string-delivered"),
        pytest.param(_answer(delivered=10.0), id="float-delivered"),
        pytest.param(_answer(status="failed", delivered=False), id="bool-delivered"),
        pytest.param(_answer(delivered=9), id="completed-but-short"),
        pytest.param(_answer(status="partial", delivered=0), id="partial-of-nothing"),
        pytest.param(_answer(status="partial", delivered=10), id="partial-of-everything"),
        pytest.param(_answer(status="failed", delivered=3), id="failed-but-delivered"),
        pytest.param(_answer(baseline="many"), id="bad-baseline"),
        pytest.param(_answer(baseline=-5), id="negative-baseline"),
        pytest.param(_answer(reference=123), id="non-string-reference"),
        pytest.param(_answer(reference="R" * 101), id="overlong-reference"),
        pytest.param(_answer(message=["x"]), id="non-string-message"),
        pytest.param(_answer(message="x" * 70_000), id="oversized-answer"),
    ],
)
def test_malformed_answers_are_retried_then_raise_supplier_unavailable(supplier, body):
    supplier.reply(200, body, times=3)

    with pytest.raises(SupplierUnavailable, match="malformed|larger"):
        make_backend(supplier, retries=2).execute(make_order(quantity=10))

    assert len(supplier.requests) == 3


def test_a_malformed_answer_followed_by_a_valid_one_succeeds(supplier):
    supplier.reply(200, b"{not json")
    supplier.answer("completed", 10)

    result = make_backend(supplier).execute(make_order())

    assert result.outcome == Outcome.COMPLETED
    assert len(supplier.requests) == 2


def test_a_long_message_is_truncated_to_fit_the_event_log(supplier):
    supplier.answer("failed", 0, message="m" * 2000)

    result = make_backend(supplier).execute(make_order())

    assert result.message == "m" * 500


def test_backoff_is_exponential_and_capped(supplier, monkeypatch):
    pauses = []
    monkeypatch.setattr(webhook, "_sleep", pauses.append)
    supplier.reply(503, times=8)

    with pytest.raises(SupplierUnavailable):
        make_backend(supplier, retries=7, backoff=1).execute(make_order())

    assert pauses == [1, 2, 4, 8, 16, 30, 30]


# --- poll ----------------------------------------------------------------------------------


def test_poll_posts_the_signed_status_query_to_the_default_poll_url(supplier):
    supplier.answer("accepted", 2, reference="SUP-77")

    result = make_backend(supplier).poll(make_order(supplier_reference="SUP-77"))

    assert result.outcome == Outcome.ACCEPTED
    [request] = supplier.requests
    assert (request.method, request.path) == ("POST", "/orders/status")
    assert request.signature_ok
    assert request.headers[signing.IDEMPOTENCY_HEADER] == NUMBER
    assert request.json() == {"order_number": NUMBER, "supplier_reference": "SUP-77"}


def test_poll_uses_the_configured_poll_url(supplier):
    supplier.answer("completed", 10)

    make_backend(supplier, poll_url=supplier.url + "/v2/query").poll(make_order())

    assert [request.path for request in supplier.requests] == ["/v2/query"]


@pytest.mark.parametrize(
    ("status", "delivered", "outcome"),
    [
        ("completed", 10, Outcome.COMPLETED),
        ("partial", 7, Outcome.PARTIAL),
        ("failed", 0, Outcome.FAILED),
        ("accepted", 0, Outcome.ACCEPTED),
    ],
)
def test_poll_answers_map_to_results(supplier, status, delivered, outcome):
    supplier.answer(status, delivered, baseline=50, message="status")

    result = make_backend(supplier).poll(make_order(supplier_reference="SUP-77"))

    assert result.outcome == outcome
    assert result.delivered_quantity == delivered
    assert result.baseline_count == 50
    # The supplier left the reference out; the one already on the order stays.
    assert result.supplier_reference == "SUP-77"


def test_poll_retries_and_then_raises_supplier_unavailable(supplier):
    supplier.reply(500, times=2)

    with pytest.raises(SupplierUnavailable):
        make_backend(supplier, retries=1).poll(make_order(supplier_reference="SUP-77"))

    assert len(supplier.requests) == 2
    assert {r.headers[signing.IDEMPOTENCY_HEADER] for r in supplier.requests} == {NUMBER}


def test_poll_refused_with_4xx_raises_at_once_instead_of_failing_an_accepted_order(supplier):
    supplier.reply(404, {"message": "unknown order"})

    with pytest.raises(SupplierUnavailable, match="HTTP 404"):
        make_backend(supplier).poll(make_order(supplier_reference="SUP-77"))

    assert len(supplier.requests) == 1


def test_poll_rejects_an_answer_about_another_supplier_job(supplier):
    supplier.answer("completed", 10, reference="SUP-99", times=3)

    with pytest.raises(SupplierUnavailable, match="malformed"):
        make_backend(supplier).poll(make_order(supplier_reference="SUP-77"))


# --- configuration --------------------------------------------------------------------------


def test_defaults():
    backend = WebhookBackend(
        name="acme", url="https://supplier.example/api/orders/", secret="hush-hush"
    )

    assert (backend.timeout, backend.retries, backend.backoff) == (10, 3, 0.5)
    assert backend.poll_url == "https://supplier.example/api/orders/status"
    assert "hush-hush" not in repr(backend)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"secret": "k"}, id="no-url"),
        pytest.param({"url": "https://s.example/o"}, id="no-secret"),
        pytest.param({"url": "https://s.example/o", "secret": ""}, id="empty-secret"),
        pytest.param({"url": "file:///etc/passwd", "secret": "k"}, id="file-url"),
        pytest.param({"url": "https:///o", "secret": "k"}, id="no-host"),
        pytest.param({"url": "https://s.example/o", "secret": "k", "poll_url": "ftp://s/x"}),
        pytest.param({"url": "https://s.example/o", "secret": "k", "timeout": 0}, id="zero"),
        pytest.param({"url": "https://s.example/o", "secret": "k", "timeout": float("inf")}),
        pytest.param({"url": "https://s.example/o", "secret": "k", "retries": -1}),
        pytest.param({"url": "https://s.example/o", "secret": "k", "retries": "3"}),
        pytest.param({"url": "https://s.example/o", "secret": "k", "backof": 1}, id="typo"),
    ],
)
def test_bad_options_are_refused_at_construction(options):
    with pytest.raises(ImproperlyConfigured):
        WebhookBackend(name="acme", **options)


def test_get_backend_builds_it_from_settings(settings):
    settings.FULFILMENT_BACKENDS = {
        "acme": {
            "BACKEND": "orders.fulfilment.webhook.WebhookBackend",
            "OPTIONS": {"url": "https://supplier.example/orders", "secret": "k", "retries": 1},
        }
    }

    backend = get_backend("acme")

    assert isinstance(backend, WebhookBackend)
    assert (backend.name, backend.retries) == ("acme", 1)


# --- signing --------------------------------------------------------------------------------

NOW = 1_764_000_000
BODY = b'{"order_number":"20261124081930123456"}'


def _signed(secret=SECRET, timestamp=str(NOW), body=BODY):
    return signing.sign(secret, timestamp, body)


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert _signed() == expected


def test_verify_accepts_a_fresh_valid_signature():
    assert signing.verify(SECRET, str(NOW), BODY, _signed(), now=NOW + 10)
    assert signing.verify(SECRET, str(NOW), BODY, _signed().upper(), now=NOW)


def test_verify_rejects_a_wrong_secret():
    assert not signing.verify(SECRET, str(NOW), BODY, _signed(secret="other"), now=NOW)
    assert not signing.verify("", str(NOW), BODY, _signed(), now=NOW)


def test_verify_rejects_a_tampered_body_or_timestamp():
    assert not signing.verify(SECRET, str(NOW), BODY + b" ", _signed(), now=NOW)
    assert not signing.verify(SECRET, str(NOW + 1), BODY, _signed(), now=NOW)


def test_verify_rejects_an_expired_timestamp():
    assert signing.verify(SECRET, str(NOW), BODY, _signed(), now=NOW + 300)
    assert not signing.verify(SECRET, str(NOW), BODY, _signed(), now=NOW + 301)
    assert not signing.verify(SECRET, str(NOW), BODY, _signed(), max_age_seconds=60, now=NOW + 61)


def test_verify_rejects_a_future_timestamp():
    assert signing.verify(SECRET, str(NOW), BODY, _signed(), now=NOW - 300)
    assert not signing.verify(SECRET, str(NOW), BODY, _signed(), now=NOW - 301)


@pytest.mark.parametrize("timestamp", ["", " 1764000000", "+1764000000", "1764000000.0", "abc"])
def test_verify_rejects_malformed_timestamps(timestamp):
    assert not signing.verify(SECRET, timestamp, BODY, _signed(timestamp=timestamp), now=NOW)


@pytest.mark.parametrize("signature", ["", "zz", "é" * 64, None])
def test_verify_rejects_malformed_signatures(signature):
    assert not signing.verify(SECRET, str(NOW), BODY, signature, now=NOW)


def test_verify_uses_the_current_time_by_default():
    timestamp = signing.timestamp_now()

    assert signing.verify(SECRET, timestamp, BODY, _signed(timestamp=timestamp))
    assert not signing.verify(SECRET, str(NOW - 10**6), BODY, _signed(timestamp=str(NOW - 10**6)))


def test_sign_refuses_an_empty_secret():
    with pytest.raises(ValueError, match="secret"):
        signing.sign("", str(NOW), BODY)
