"""Tencent Cloud SMS (腾讯云短信) backend for django-sms, signed with TC3-HMAC-SHA256.

Enable it with ``SMS_BACKEND = "portal.sms_backends.TencentSmsBackend"`` and configure::

    TENCENT_SMS = {
        "SECRET_ID": "AKID...",            # required, CAM API key id
        "SECRET_KEY": "...",               # required, CAM API key secret
        "SDK_APP_ID": "1400000000",        # required, SMS application id (SmsSdkAppId)
        "SIGN_NAME": "...",                # required, approved signature (SignName)
        "TEMPLATE_ID": "123456",           # required, default approved template (TemplateId)
        "REGION": "ap-guangzhou",          # optional, X-TC-Region
        "ENDPOINT": "https://sms.tencentcloudapi.com",  # optional, http(s) URL; tests use a local one
        "TIMEOUT": 5,                      # optional, seconds (int or float) per HTTP request
    }

Each message is one SendSms call (API version 2021-01-11); recipients beyond 200, the API's
limit per call, are split into further calls.

Template convention: Tencent only sends approved templates, so a message carries template
*parameters*, not free text.

- If the message has an attribute ``template_params`` (a list of strings), it is sent as
  ``TemplateParamSet``; each item is converted with ``str()``, and a bare string counts as one
  parameter. An empty list is sent as is, for templates without parameters.
- Otherwise ``TemplateParamSet`` is ``[message.body]`` (a one-parameter template such as
  "Your code is {1}").
- If the message has an attribute ``template_id``, it replaces the ``TEMPLATE_ID`` setting for
  that message.

``message.originator`` is not used: the sender shown on the phone is ``SIGN_NAME``.

Recipients are normalised to E.164: an 11-digit mainland number (``13812345678``) gets ``+86``,
``0086...`` becomes ``+86...``; anything that is still not ``+`` followed by 7-15 digits fails.

A message counts as sent only when every recipient's ``SendStatusSet`` entry has Code "Ok". Any
failure (HTTP error, timeout, non-JSON answer, ``Response.Error``, a non-"Ok" status, an invalid
number) is logged on the ``portal.sms`` logger and raises ``SmsSendError``, unless the backend was
created with ``fail_silently=True``: then ``send_messages`` returns the number of messages sent.
A missing or invalid ``TENCENT_SMS`` setting raises ``ImproperlyConfigured`` regardless.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from sms.backends.base import BaseSmsBackend
from sms.message import Message

logger = logging.getLogger("portal.sms")

SERVICE = "sms"
ACTION = "SendSms"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
MAX_PHONE_NUMBERS = 200

_REQUIRED_KEYS = ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME", "TEMPLATE_ID")
_DEFAULTS = {
    "REGION": "ap-guangzhou",
    "ENDPOINT": "https://sms.tencentcloudapi.com",
    "TIMEOUT": 5,
}
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MAINLAND_MOBILE = re.compile(r"^1\d{10}$")
_SEPARATORS = re.compile(r"[\s\-().]")


class SmsSendError(Exception):
    """A Tencent Cloud SMS request failed; ``code`` is Tencent's error code when there is one."""

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None):
        """Keep the provider's error code and request id next to the readable message."""
        super().__init__(message)
        self.code = code
        self.request_id = request_id


def _hmac_sha256(key: bytes, msg: str) -> bytes:
    """Return the raw HMAC-SHA256 of a UTF-8 string."""
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_sign(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    version: str,
    region: str,
    timestamp: int,
    payload: bytes,
) -> dict[str, str]:
    """Return the headers of a TC3-HMAC-SHA256 signed JSON POST to ``/`` on ``host``."""
    # The credential date is the UTC day of the timestamp, not the local one.
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    # Tencent canonicalises header names and values in lower case.
    canonical_headers = f"content-type:{CONTENT_TYPE.lower()}\nhost:{host.lower()}\n"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            signed_headers,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    credential_scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            credential_scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    secret_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac_sha256(secret_date, service)
    secret_signing = _hmac_sha256(secret_service, "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers = {
        "Authorization": (
            f"TC3-HMAC-SHA256 Credential={secret_id}/{credential_scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        ),
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
    }
    if region:
        headers["X-TC-Region"] = region
    return headers


def to_e164(number: str) -> str:
    """Return ``number`` in E.164 form, adding +86 to 11-digit mainland mobile numbers."""
    cleaned = _SEPARATORS.sub("", str(number))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    elif _MAINLAND_MOBILE.match(cleaned):
        cleaned = "+86" + cleaned
    elif cleaned.startswith("86") and _MAINLAND_MOBILE.match(cleaned[2:]):
        cleaned = "+" + cleaned
    if not _E164.match(cleaned):
        raise SmsSendError(f"Invalid phone number {_mask(str(number))!r}: not E.164")
    return cleaned


def _mask(number: str) -> str:
    """Hide the middle digits of a phone number, which is personal data, in logs and errors."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:-8] + "****" + number[-4:]


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    """Yield consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TencentSmsBackend(BaseSmsBackend):
    """django-sms backend sending template messages through Tencent Cloud SMS ``SendSms``."""

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        """Read and validate the ``TENCENT_SMS`` setting."""
        super().__init__(fail_silently=fail_silently, **kwargs)
        config = {**_DEFAULTS, **(getattr(settings, "TENCENT_SMS", None) or {})}
        missing = [key for key in _REQUIRED_KEYS if not config.get(key)]
        if missing:
            raise ImproperlyConfigured(f"TENCENT_SMS is missing {', '.join(missing)}")
        endpoint = urlsplit(str(config["ENDPOINT"]))
        # urlopen would also follow file:// and other schemes; only HTTP(S) is an API endpoint.
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
            raise ImproperlyConfigured("TENCENT_SMS['ENDPOINT'] must be an http(s) URL")
        try:
            self.timeout = float(config["TIMEOUT"])
        except (TypeError, ValueError):
            raise ImproperlyConfigured("TENCENT_SMS['TIMEOUT'] must be a number") from None
        self.secret_id = str(config["SECRET_ID"])
        self.secret_key = str(config["SECRET_KEY"])
        self.sdk_app_id = str(config["SDK_APP_ID"])
        self.sign_name = str(config["SIGN_NAME"])
        self.template_id = str(config["TEMPLATE_ID"])
        self.region = str(config["REGION"] or "")
        # The signed host must be the Host header actually sent, port included.
        self.host = endpoint.netloc
        self.url = urlunsplit((endpoint.scheme, endpoint.netloc, endpoint.path or "/", "", ""))

    def send_messages(self, messages: list[Message]) -> int:
        """Send each message with one SendSms call per 200 recipients; return how many succeeded."""
        sent = 0
        for message in messages:
            if not message.recipients:
                continue
            try:
                self._send_message(message)
            except SmsSendError as exc:
                logger.error("Tencent SMS not sent: %s", exc)
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _send_message(self, message: Message) -> None:
        """Send one message to all its recipients or raise SmsSendError."""
        numbers = [to_e164(number) for number in message.recipients]
        template_params = getattr(message, "template_params", None)
        if template_params is None:
            template_params = [message.body]
        elif isinstance(template_params, str):
            # Iterating a bare string would send one parameter per character.
            template_params = [template_params]
        template_id = getattr(message, "template_id", None) or self.template_id
        for batch in _batches(numbers, MAX_PHONE_NUMBERS):
            body = {
                "PhoneNumberSet": list(batch),
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": str(template_id),
                "TemplateParamSet": [str(param) for param in template_params],
            }
            self._check_response(self._post(body), batch)

    def _post(self, body: dict) -> dict:
        """POST a signed SendSms request and return the decoded ``Response`` object."""
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = tc3_sign(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            service=SERVICE,
            host=self.host,
            action=ACTION,
            version=API_VERSION,
            region=self.region,
            timestamp=int(time.time()),
            payload=payload,
        )
        # The scheme was restricted to http/https in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.url, data=payload, headers=headers, method="POST"
        )
        # A fresh opener per call picks up the current proxy environment variables.
        opener = urllib.request.build_opener()
        try:
            with opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise SmsSendError(f"Tencent SMS answered HTTP {exc.code} {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # URLError, TimeoutError and connection resets are all OSError subclasses.
            reason = getattr(exc, "reason", None) or exc
            raise SmsSendError(f"Tencent SMS request failed: {reason!r}") from exc
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise SmsSendError(f"Tencent SMS answered non-JSON: {raw[:200]!r}") from exc
        answer = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(answer, dict):
            raise SmsSendError(f"Tencent SMS answer has no Response object: {raw[:200]!r}")
        return answer

    def _check_response(self, answer: dict, numbers: Sequence[str]) -> None:
        """Raise SmsSendError unless every number in ``numbers`` has an "Ok" send status."""
        request_id = answer.get("RequestId")
        error = answer.get("Error")
        if error:
            code = str(error.get("Code", "")) if isinstance(error, dict) else ""
            text = str(error.get("Message", "")) if isinstance(error, dict) else str(error)
            raise SmsSendError(
                f"Tencent SMS error {code}: {text} (RequestId {request_id})",
                code=code or None,
                request_id=request_id,
            )
        statuses = answer.get("SendStatusSet")
        if not isinstance(statuses, list):
            raise SmsSendError(
                f"Tencent SMS answer has no SendStatusSet (RequestId {request_id})",
                request_id=request_id,
            )
        failures = [
            status
            for status in statuses
            if not isinstance(status, dict) or status.get("Code") != "Ok"
        ]
        if failures:
            details = "; ".join(
                f"{_mask(str(status.get('PhoneNumber', '?')))}: "
                f"{status.get('Code')} {status.get('Message', '')}".rstrip()
                if isinstance(status, dict)
                else repr(status)
                for status in failures
            )
            first = failures[0]
            raise SmsSendError(
                f"Tencent SMS rejected {len(failures)} of {len(numbers)} number(s): {details} "
                f"(RequestId {request_id})",
                code=str(first.get("Code")) if isinstance(first, dict) else None,
                request_id=request_id,
            )
        if len(statuses) < len(numbers):
            raise SmsSendError(
                f"Tencent SMS returned {len(statuses)} status(es) for {len(numbers)} number(s) "
                f"(RequestId {request_id})",
                request_id=request_id,
            )
