"""TencentSmsBackend against a local fake Tencent Cloud API that checks TC3-HMAC-SHA256 signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sms
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from portal import sms_backends
from portal.sms_backends import SmsSendError, TencentSmsBackend, tc3_sign, to_e164

BACKEND = "portal.sms_backends.TencentSmsBackend"
SECRET_ID = "AKIDtestSecretId1234567890abcdef"
SECRET_KEY = "test-secret-key-0123456789abcdef"

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[a-z]+)/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


def reference_signature(
    secret_key: str, date: str, service: str, timestamp: str, canonical_request: str
) -> str:
    """Tencent's documented steps 2-3: string to sign, derived key chain, hex HMAC."""
    string_to_sign = (
        "TC3-HMAC-SHA256\n"
        + timestamp
        + "\n"
        + f"{date}/{service}/tc3_request\n"
        + hashlib.sha256(canonical_request.encode()).hexdigest()
    )
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class RecordedRequest:
    """One request as the fake server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        """Decode the JSON body."""
        return json.loads(self.body)


@dataclass
class FakeTencent:
    """State and behaviour switches of the fake SendSms endpoint."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    auth_results: list[str] = field(default_factory=list)
    failing_numbers: dict[str, str] = field(default_factory=dict)
    error: tuple[str, str] | None = None
    http_status: int = 200
    raw_answer: bytes | None = None
    delay: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def settings(self) -> dict:
        """A TENCENT_SMS setting pointing at this server with the secret it accepts."""
        return {
            "SECRET_ID": SECRET_ID,
            "SECRET_KEY": SECRET_KEY,
            "SDK_APP_ID": "1400006666",
            "SIGN_NAME": "订单平台",
            "TEMPLATE_ID": "449739",
            "REGION": "ap-guangzhou",
            "ENDPOINT": self.url,
            "TIMEOUT": 5,
        }

    def check_authorization(self, request: RecordedRequest) -> str:
        """Return "" if the TC3 signature is valid, else the error code Tencent would give."""
        match = _AUTHORIZATION.match(request.headers.get("authorization", ""))
        if not match:
            return "AuthFailure.InvalidAuthorization"
        if match["secret_id"] != SECRET_ID:
            return "AuthFailure.SecretIdNotFound"
        timestamp = request.headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return "AuthFailure.SignatureExpire"
        date = datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%d")
        signed = match["signed"].split(";")
        if match["date"] != date or "host" not in signed or "content-type" not in signed:
            return "AuthFailure.SignatureFailure"
        canonical_headers = "".join(
            f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in signed
        )
        canonical_request = (
            f"{request.method}\n{request.path}\n\n{canonical_headers}\n{match['signed']}\n"
            + hashlib.sha256(request.body).hexdigest()
        )
        expected = reference_signature(
            SECRET_KEY, date, match["service"], timestamp, canonical_request
        )
        if not hmac.compare_digest(expected, match["signature"]):
            return "AuthFailure.SignatureFailure"
        return ""

    def answer(self, request: RecordedRequest) -> dict:
        """Build the JSON answer Tencent would give to ``request``."""
        request_id = str(uuid.uuid4())
        auth_error = self.check_authorization(request)
        self.auth_results.append(auth_error)
        if auth_error:
            error = (auth_error, "The provided credentials could not be validated.")
        else:
            error = self.error
        if error:
            return {
                "Response": {
                    "Error": {"Code": error[0], "Message": error[1]},
                    "RequestId": request_id,
                }
            }
        statuses = []
        for number in request.json()["PhoneNumberSet"]:
            code = self.failing_numbers.get(number, "Ok")
            statuses.append(
                {
                    "SerialNo": "" if code != "Ok" else f"2028:{uuid.uuid4().hex}",
                    "PhoneNumber": number,
                    "Fee": 0 if code != "Ok" else 1,
                    "SessionContext": "",
                    "Code": code,
                    "Message": "send success" if code == "Ok" else "rejected by fake",
                    "IsoCode": "CN",
                }
            )
        return {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}


class _Handler(BaseHTTPRequestHandler):
    """Serves the FakeTencent attached to the server."""

    def do_POST(self):  # noqa: N802
        """Record the request, then answer according to the fake's switches."""
        fake: FakeTencent = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        fake.requests.append(request)
        if fake.delay:
            fake.release.wait(fake.delay)
        if fake.http_status != 200:
            self._reply(fake.http_status, b"<html>Internal Server Error</html>", "text/html")
        elif fake.raw_answer is not None:
            self._reply(200, fake.raw_answer, "application/json")
        else:
            self._reply(200, json.dumps(fake.answer(request)).encode(), "application/json")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        """Send a complete HTTP answer."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        """Keep the test output clean."""


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server carrying a FakeTencent."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        """The client gives up on purpose in the timeout test; a broken pipe is expected."""


@pytest.fixture
def tencent(monkeypatch):
    """A fake Tencent SMS API on 127.0.0.1, with the backend configured to use it."""
    # A proxy from the environment would carry test traffic off this machine.
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeTencent(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        with override_settings(SMS_BACKEND=BACKEND, TENCENT_SMS=fake.settings):
            yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_request_shape(tencent):
    before = int(time.time())
    sent = sms.send_sms("246810", None, ["138 1234 5678", "+8613900001111", "0085291234567"])

    assert sent == 1
    assert len(tencent.requests) == 1
    request = tencent.requests[0]
    assert request.method == "POST"
    assert request.path == "/"
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["host"] == tencent.url.removeprefix("http://")
    assert before <= int(request.headers["x-tc-timestamp"]) <= int(time.time())
    assert int(request.headers["content-length"]) == len(request.body)
    assert request.json() == {
        "PhoneNumberSet": ["+8613812345678", "+8613900001111", "+85291234567"],
        "SmsSdkAppId": "1400006666",
        "SignName": "订单平台",
        "TemplateId": "449739",
        "TemplateParamSet": ["246810"],
    }


def test_signature_is_accepted_by_the_fake_server(tencent):
    assert sms.Message("1234", recipients=["13812345678"]).send() == 1

    assert tencent.auth_results == [""]
    request = tencent.requests[0]
    today = datetime.fromtimestamp(int(request.headers["x-tc-timestamp"]), tz=UTC)
    assert request.headers["authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{today:%Y-%m-%d}/sms/tc3_request, "
        "SignedHeaders=content-type;host, Signature="
    )


def test_template_params_and_template_id_attributes(tencent):
    message = sms.Message("ignored when template_params is set", recipients=["13812345678"])
    message.template_params = ["张三", 42]
    message.template_id = "1100001"

    assert message.send() == 1

    body = tencent.requests[0].json()
    assert body["TemplateParamSet"] == ["张三", "42"]
    assert body["TemplateId"] == "1100001"


def test_template_params_as_a_bare_string_is_one_parameter(tencent):
    message = sms.Message("ignored", recipients=["13812345678"])
    message.template_params = "9876"

    assert message.send() == 1

    assert tencent.requests[0].json()["TemplateParamSet"] == ["9876"]


def test_tc3_sign_matches_a_vector_computed_by_hand():
    payload = b'{"PhoneNumberSet":["+8613812345678"],"TemplateParamSet":["1234"]}'
    timestamp = 1700000000  # 2023-11-14T22:13:20Z

    headers = tc3_sign(
        secret_id="AKIDexample",
        secret_key="example-key",
        service="sms",
        host="sms.tencentcloudapi.com",
        action="SendSms",
        version="2021-01-11",
        region="ap-guangzhou",
        timestamp=timestamp,
        payload=payload,
    )

    # Step 1: canonical request, spelled out as the documentation shows it.
    hashed_payload = hashlib.sha256(payload).hexdigest()
    canonical_request = (
        "POST\n"
        "/\n"
        "\n"
        "content-type:application/json; charset=utf-8\n"
        "host:sms.tencentcloudapi.com\n"
        "\n"
        "content-type;host\n" + hashed_payload
    )
    # Step 2: string to sign.
    string_to_sign = (
        "TC3-HMAC-SHA256\n"
        "1700000000\n"
        "2023-11-14/sms/tc3_request\n"
        + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    )
    # Step 3: derived keys and signature.
    secret_date = hmac.new(b"TC3example-key", b"2023-11-14", hashlib.sha256).digest()
    secret_service = hmac.new(secret_date, b"sms", hashlib.sha256).digest()
    secret_signing = hmac.new(secret_service, b"tc3_request", hashlib.sha256).digest()
    signature = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()

    assert headers == {
        "Authorization": (
            "TC3-HMAC-SHA256 Credential=AKIDexample/2023-11-14/sms/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        ),
        "Content-Type": "application/json; charset=utf-8",
        "Host": "sms.tencentcloudapi.com",
        "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11",
        "X-TC-Timestamp": "1700000000",
        "X-TC-Region": "ap-guangzhou",
    }


def test_tc3_sign_matches_tencent_documentation_example():
    # The worked example of Tencent's "Signature v3" page (CVM DescribeInstances), with its
    # masked credentials taken literally and its published signature.
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    assert hashlib.sha256(payload).hexdigest() == (
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )

    headers = tc3_sign(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3*******",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        action="DescribeInstances",
        version="2017-03-12",
        region="ap-guangzhou",
        timestamp=1551113065,
        payload=payload,
    )

    assert headers["Authorization"] == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )


def test_wrong_secret_is_rejected_as_signature_failure(tencent):
    with override_settings(TENCENT_SMS={**tencent.settings, "SECRET_KEY": "not-the-secret"}):
        with pytest.raises(SmsSendError, match=r"AuthFailure\.SignatureFailure") as excinfo:
            sms.send_sms("1234", None, ["13812345678"])

    assert excinfo.value.code == "AuthFailure.SignatureFailure"
    assert tencent.auth_results == ["AuthFailure.SignatureFailure"]


def test_provider_status_code_raises_with_the_code(tencent, caplog):
    tencent.failing_numbers["+8613900001111"] = "LimitExceeded.PhoneNumberDailyLimit"

    with caplog.at_level(logging.ERROR, logger="portal.sms"):
        with pytest.raises(SmsSendError, match=r"LimitExceeded\.PhoneNumberDailyLimit") as excinfo:
            sms.send_sms("1234", None, ["13812345678", "13900001111"])

    assert excinfo.value.code == "LimitExceeded.PhoneNumberDailyLimit"
    assert excinfo.value.request_id
    # Phone numbers are personal data: only a masked form reaches the message and the log.
    assert "+86139****1111" in str(excinfo.value)
    assert "13900001111" not in str(excinfo.value)
    assert [record.name for record in caplog.records] == ["portal.sms"]
    assert "LimitExceeded.PhoneNumberDailyLimit" in caplog.records[0].getMessage()


def test_response_error_raises_with_the_code(tencent):
    tencent.error = ("FailedOperation.SignatureIncorrectOrUnapproved", "signature not approved")

    with pytest.raises(SmsSendError, match=r"FailedOperation\.SignatureIncorrectOrUnapproved"):
        sms.send_sms("1234", None, ["13812345678"])


def test_http_500_raises(tencent):
    tencent.http_status = 500

    with pytest.raises(SmsSendError, match="HTTP 500"):
        sms.send_sms("1234", None, ["13812345678"])


def test_timeout_raises(tencent):
    tencent.delay = 5
    start = time.monotonic()

    with override_settings(TENCENT_SMS={**tencent.settings, "TIMEOUT": 0.5}):
        with pytest.raises(SmsSendError, match="(?i)timed out"):
            sms.send_sms("1234", None, ["13812345678"])

    assert time.monotonic() - start < 3


def test_malformed_json_raises(tencent):
    tencent.raw_answer = b'{"Response": {"SendStatusSet": ['

    with pytest.raises(SmsSendError, match="non-JSON"):
        sms.send_sms("1234", None, ["13812345678"])


@pytest.mark.parametrize(
    ("switch", "value"),
    [
        ("failing_numbers", {"+8613812345678": "LimitExceeded.PhoneNumberDailyLimit"}),
        ("error", ("InternalError.Timeout", "backend timeout")),
        ("http_status", 500),
        ("raw_answer", b"not json"),
    ],
)
def test_fail_silently_returns_zero(tencent, caplog, switch, value):
    setattr(tencent, switch, value)

    with caplog.at_level(logging.ERROR, logger="portal.sms"):
        assert sms.send_sms("1234", None, ["13812345678"], fail_silently=True) == 0

    assert len(tencent.requests) == 1
    assert [record.name for record in caplog.records] == ["portal.sms"]


def test_fail_silently_wrong_secret_returns_zero(tencent):
    with override_settings(TENCENT_SMS={**tencent.settings, "SECRET_KEY": "not-the-secret"}):
        assert sms.Message("1234", recipients=["13812345678"]).send(fail_silently=True) == 0


def test_fail_silently_counts_the_messages_actually_sent(tencent):
    tencent.failing_numbers["+8613900001111"] = "FailedOperation.PhoneNumberInBlacklist"
    messages = [
        sms.Message("1", recipients=["13812345678"]),
        sms.Message("2", recipients=["13900001111"]),
        sms.Message("3", recipients=["13700002222"]),
        sms.Message("4", recipients=["12345"]),  # invalid, never sent
    ]

    with sms.get_connection(fail_silently=True) as connection:
        assert connection.send_messages(messages) == 2

    assert len(tencent.requests) == 3


def test_recipients_beyond_the_per_call_limit_are_split(tencent, monkeypatch):
    monkeypatch.setattr(sms_backends, "MAX_PHONE_NUMBERS", 2)

    assert sms.send_sms("1234", None, ["13800000001", "13800000002", "13800000003"]) == 1

    assert [request.json()["PhoneNumberSet"] for request in tencent.requests] == [
        ["+8613800000001", "+8613800000002"],
        ["+8613800000003"],
    ]
    assert tencent.auth_results == ["", ""]


def test_invalid_number_raises_before_any_request(tencent):
    with pytest.raises(SmsSendError, match="Invalid phone number"):
        sms.send_sms("1234", None, ["12345"])

    assert tencent.requests == []


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("+14155550123", "+14155550123"),
    ],
)
def test_to_e164(number, expected):
    assert to_e164(number) == expected


@pytest.mark.parametrize("number", ["", "12345", "2381234567", "+0123456789", "abc"])
def test_to_e164_rejects_non_numbers(number):
    with pytest.raises(SmsSendError):
        to_e164(number)


@pytest.mark.parametrize(
    "overrides",
    [
        {"SECRET_KEY": ""},
        {"TEMPLATE_ID": None},
        {"ENDPOINT": "file:///etc/passwd"},
        {"TIMEOUT": "soon"},
    ],
)
def test_bad_configuration_is_improperly_configured(overrides):
    config = {
        "SECRET_ID": SECRET_ID,
        "SECRET_KEY": SECRET_KEY,
        "SDK_APP_ID": "1400006666",
        "SIGN_NAME": "订单平台",
        "TEMPLATE_ID": "449739",
        **overrides,
    }
    with override_settings(TENCENT_SMS=config):
        with pytest.raises(ImproperlyConfigured):
            TencentSmsBackend(fail_silently=True)
