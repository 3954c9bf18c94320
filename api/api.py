"""The reseller API, /api/v1/ (django-ninja): services, balance, quote, orders, ledger.

Every write goes through the same services as the portal (``orders.services.order_place``,
``order_cancel``, ``order_quote``); every read is scoped to the key's customer, so another
customer's order is a 404, never a 403 that would say it exists. Reads come from the primary:
a client that places an order and reads it back at once must find it.

**client_order_id.** No new column: the order's existing unique ``idempotency_key`` holds
``api:<customer id>:<client_order_id>``. ``order_place`` already returns the first order for a
repeated key under the account lock (so 20 racing requests make one order and one debit), the
unique index already makes "unique per customer" hold on every database and serves the
``?client_order_id=`` lookup, and no migration or second uniqueness rule is needed beside the
one the portal uses. A portal key (``portal:…``) can never look like an API key.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.security.base import AuthBase
from pydantic import Field, field_validator

from api.client_ids import client_order_id_of, client_order_key
from api.exceptions import (
    CLIENT_ORDER_ID_CONFLICT,
    INVALID_CURSOR,
    INVALID_INPUT,
    KEY_IN_QUERY,
    KEY_MISSING,
    NOT_FOUND,
    NOT_JSON,
    ORDER_NOT_FOUND,
    ApiError,
    ApiKeyInvalid,
)
from api.models import ApiKey
from api.problems import problem_response
from api.ratelimit import rate_limit_check
from api.schemas import (
    MAX_ID,
    BalanceOut,
    EntryPage,
    OrderIn,
    OrderOut,
    OrderPage,
    Problem,
    QuoteIn,
    QuoteOut,
    ServiceOut,
)
from api.services import api_key_authenticate, api_key_touch
from api.validation import translated_message
from core.exceptions import DomainError
from core.net import client_ip
from customers.selectors import active_customer_of
from orders.exceptions import (
    SERVICE_UNAVAILABLE,
    CustomerInactive,
    InvalidQuantity,
    InvalidTarget,
    OrderNotCancellable,
    OrderStateChanged,
    PriceChanged,
    ServiceUnavailable,
)
from orders.models import Order, OrderEvent, Service
from orders.pricing import parse_quantity, quantity_range
from orders.services import order_cancel, order_place, order_quote
from wallet.exceptions import InsufficientFunds, InvalidAmount
from wallet.models import Entry
from wallet.money import parse_amount, quantize_money
from wallet.selectors import balance_of, entries_of

PRIMARY = "default"
QUERY_KEY_NAMES = {"api_key", "apikey", "key", "token", "access_token", "x-api-key", "x_api_key"}
MAX_PAGE = 100


# -- authentication ----------------------------------------------------------------------------


class ApiKeyAuth(AuthBase):
    """``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``); never a query parameter."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> ApiKey:
        if any(name.lower() in QUERY_KEY_NAMES for name in request.GET):
            raise ApiError(KEY_IN_QUERY, status=400, code="key_in_query")
        token = request.headers.get("X-API-Key", "")
        authorization = request.headers.get("Authorization", "")
        if authorization:
            scheme, _sep, value = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise ApiKeyInvalid(KEY_MISSING, code="missing_key")
            token = value
        if not token.strip():
            raise ApiKeyInvalid(KEY_MISSING, code="missing_key")
        key = api_key_authenticate(token=token, ip=client_ip(request))
        request.api_key = key  # for the request log (api.problems)
        rate_limit_check(key_id=key.pk)
        api_key_touch(key=key)
        return key


class ApiDocs(Swagger):
    """Swagger UI from django-ninja's own static files, in our page with a curl example."""

    template = "api/docs.html"

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        service = Service.objects.filter(is_active=True).values_list("pk", flat=True).first()
        context = {
            "swagger_settings": json.dumps(self.settings),
            "openapi_url": self.settings["url"],
            "base_url": request.build_absolute_uri("/").rstrip("/"),
            "example_service": service or 1,
            "problems": PROBLEM_CODES,
        }
        request.customer = active_customer_of(request.user)  # the portal's navigation, if logged in
        return render(request, self.template, context)


# The codes an error may carry, listed on the docs page (each problem's ``type`` links here).
PROBLEM_CODES = [
    (400, "key_in_query", _("An API key was sent in the URL; it is refused there.")),
    (400, "invalid_json", _("The body is not JSON.")),
    (400, "invalid_cursor", _("The cursor was not returned by this API.")),
    (401, "missing_key", _("No API key in the Authorization or X-API-Key header.")),
    (401, "invalid_key", _("The key is unknown or malformed.")),
    (401, "key_revoked", _("The key was revoked.")),
    (402, "insufficient_funds", _("The balance does not cover the order.")),
    (403, "customer_inactive", _("The account is deactivated.")),
    (403, "ip_not_allowed", _("The key may not be used from this address.")),
    (404, "not_found", _("No such path.")),
    (404, "order_not_found", _("No such order among yours.")),
    (405, "method_not_allowed", _("The path does not take this method.")),
    (409, "client_order_id_conflict", _("The client_order_id was used for a different order.")),
    (
        409,
        "price_changed",
        _("The price differs from expected_amount; the new amount is in amount."),
    ),
    (
        409,
        "not_cancellable",
        _("Only pending orders can be cancelled; order_status says what it is."),
    ),
    (422, "invalid_input", _("The parameters or body do not match the schema; see errors.")),
    (422, "invalid_quantity", _("The quantity is not a whole number in the service's range.")),
    (422, "invalid_target", _("The target is not what the service expects.")),
    (422, "invalid_amount", _("expected_amount is not an amount such as 12.50.")),
    (422, "service_unavailable", _("The service is unknown, inactive or has no prices.")),
    (429, "rate_limited", _("Too many requests with this key; wait Retry-After seconds.")),
    (500, "server_error", _("Our fault; try again later.")),
]

api = NinjaAPI(
    title="订单平台 API",
    version="1",
    description=(
        "Place, read and cancel orders from your own software. Authenticate every request with "
        "`Authorization: Bearer <key>` (create keys in the customer portal). Errors are RFC 9457 "
        "problem details with a stable `code`."
    ),
    urls_namespace="api",
    auth=ApiKeyAuth(),
    docs=ApiDocs(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}
WRITE_ERRORS = {**ERRORS, 402: Problem, 409: Problem}


# -- problem details for every error ----------------------------------------------------------

DOMAIN_STATUS = [
    (InvalidQuantity, 422, "invalid_quantity"),
    (InvalidTarget, 422, "invalid_target"),
    (InvalidAmount, 422, "invalid_amount"),
    (ServiceUnavailable, 422, "service_unavailable"),
    (InsufficientFunds, 402, "insufficient_funds"),
    (CustomerInactive, 403, "customer_inactive"),
    (PriceChanged, 409, "price_changed"),
    (OrderNotCancellable, 409, "not_cancellable"),
    (OrderStateChanged, 409, "conflict"),
]


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return problem_response(
        status=exc.status, code=exc.code, detail=exc.message, headers=exc.headers, extra=exc.extra
    )


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    for cls, status, code in DOMAIN_STATUS:
        if isinstance(exc, cls):
            extra = {}
            if isinstance(exc, PriceChanged):
                extra["amount"] = str(exc.amount)
            if isinstance(exc, OrderNotCancellable):
                extra["order_status"] = getattr(exc, "status_code", "")
            return problem_response(status=status, code=code, detail=exc.message, extra=extra)
    return problem_response(status=400, code="bad_request", detail=exc.message)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = [
        {
            # ninja names the parameter after the location ("body", "body", "quantity"); once is enough.
            "loc": [
                str(part)
                for i, part in enumerate(error.get("loc", ()))
                if i != 1 or len(error.get("loc", ())) < 3
            ],
            "msg": translated_message(error),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors
    ]
    summary = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors)
    return problem_response(
        status=422,
        code="invalid_input",
        detail=INVALID_INPUT % {"errors": summary[:500]},
        extra={"errors": errors},
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return problem_response(status=401, code="missing_key", detail=KEY_MISSING)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # ninja could not parse the body
        return problem_response(status=400, code="invalid_json", detail=NOT_JSON)
    return problem_response(status=exc.status_code, detail=exc.message)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(status=404, detail=NOT_FOUND)


_original_schema = api.get_openapi_schema


def _schema_with_problem_types(**kwargs):
    """Errors are ``application/problem+json`` in the schema as on the wire, and ``X-API-Key``
    is documented as the alternative to the bearer header."""
    schema = _original_schema(**kwargs)
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["XApiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if operation.get("security"):
                operation["security"] = [*operation["security"], {"XApiKey": []}]
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status).startswith(("4", "5")) and "application/json" in content:
                    response["content"] = {"application/problem+json": content["application/json"]}
    return schema


api.get_openapi_schema = _schema_with_problem_types


# -- helpers ------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{quantize_money(Decimal(value)):.2f}"


def _orders_out(orders: list[Order]) -> list[dict]:
    """Order bodies with events, refunded amounts and service names: three small queries for
    the whole page (the page's own query stays a plain index range scan, without a join)."""
    numbers = [o.number for o in orders]
    services = dict(
        Service.objects.using(PRIMARY)
        .filter(pk__in={o.service_id for o in orders})
        .order_by()
        .values_list("pk", "name")
    )
    refunds = dict(
        Entry.objects.using(PRIMARY)
        .filter(order_number__in=numbers, kind__in=[Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND])
        .values("order_number")
        .annotate(total=Sum("amount"))
        .values_list("order_number", "total")
    )
    events: dict[int, list] = {o.pk: [] for o in orders}
    for event in (
        OrderEvent.objects.using(PRIMARY)
        .filter(order_id__in=list(events))
        .order_by("created_at", "id")
    ):
        events[event.order_id].append(
            {
                "at": event.created_at,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "message": event.display_message,
            }
        )
    return [
        {
            "number": o.number,
            "client_order_id": client_order_id_of(o),
            "service": {"id": o.service_id, "name": services.get(o.service_id, "")},
            "target": o.target,
            "quantity": o.quantity,
            "delivered_quantity": o.delivered_quantity,
            "amount": _money(o.amount),
            "refunded_amount": _money(abs(refunds.get(o.number) or Decimal(0))),
            "status": o.status,
            "created_at": o.created_at,
            "started_at": o.started_at,
            "finished_at": o.finished_at,
            "events": events[o.pk],
        }
        for o in orders
    ]


def _order_out(order: Order) -> dict:
    return _orders_out([order])[0]


def _customer_orders(request):
    return Order.objects.using(PRIMARY).filter(customer_id=request.auth.customer_id)


def _get_order(request, number: str) -> Order:
    order = _customer_orders(request).filter(number=number).first()
    if order is None:
        raise ApiError(ORDER_NOT_FOUND, status=404, code="order_not_found", number=number[:40])
    return order


def _service(service_id: int, *, tiers: bool = True) -> Service:
    services = Service.objects.using(PRIMARY)
    if tiers:
        services = services.prefetch_related("tiers")
    service = services.filter(pk=service_id).first()
    if service is None or not service.is_active:
        raise ServiceUnavailable(SERVICE_UNAVAILABLE)
    return service


def _encode_cursor(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, pk = json.loads(raw)
        created_at = parse_datetime(created)
        if created_at is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(INVALID_CURSOR, status=400, code="invalid_cursor") from exc
    return created_at, pk


def _keyset_page(queryset, cursor: str | None, limit: int):
    """Newest first, ``limit`` rows after the cursor: an index range scan, never a COUNT or an
    OFFSET.

    The order is ``created_at DESC, id ASC``, the order of the rows in the indexes it runs on
    — ``(customer, -created_at)`` and ``(customer, status, -created_at)`` for orders,
    ``(account, -created_at)`` for entries: InnoDB appends the primary key to a secondary index
    *ascending*, so ``id DESC`` as the tie-breaker would make MariaDB sort every row of the
    customer (EXPLAIN: "Using filesort") instead of reading ``limit`` rows of the index.
    """
    if cursor:
        created_at, pk = _decode_cursor(cursor)
        queryset = queryset.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__gt=pk)
        )
    rows = list(queryset.order_by("-created_at", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1].created_at, rows[-1].pk) if more and rows else None)


# -- operations -------------------------------------------------------------------------------


@api.get("/services", response={200: list[ServiceOut], **ERRORS}, tags=["services"])
def list_services(request):
    """Active services with your prices: tiers, quantity range, target rules."""
    percent = request.auth.customer.level.discount_percent
    out = []
    for service in Service.objects.using(PRIMARY).filter(is_active=True).prefetch_related("tiers"):
        tiers = sorted(service.tiers.all(), key=lambda t: t.quantity)
        if not tiers:
            continue
        minimum, maximum = quantity_range(service, tiers)
        out.append(
            {
                "id": service.pk,
                "name": service.name,
                "description": service.description,
                "unit_name": service.unit_name,
                "min_quantity": minimum,
                "max_quantity": maximum,
                "target_kind": service.target_kind,
                "target_pattern": service.target_pattern,
                "tiers": [
                    {
                        "quantity": t.quantity,
                        "list_price": _money(t.price),
                        "price": _money(t.price * Decimal(percent) / Decimal(100)),
                    }
                    for t in tiers
                ],
            }
        )
    return out


@api.get("/balance", response={200: BalanceOut, **ERRORS}, tags=["account"])
def get_balance(request):
    """Your balance, level and currency."""
    customer = request.auth.customer
    return {
        "balance": _money(balance_of(customer_id=customer.pk)),
        "currency": settings.CURRENCY,
        "level": customer.level.name,
        "level_percent": customer.level.discount_percent,
    }


@api.post("/quote", response={200: QuoteOut, **ERRORS}, tags=["orders"])
def quote(request, body: QuoteIn):
    """What an order would cost you now (nothing is placed)."""
    quantity = parse_quantity(body.quantity)
    q = order_quote(
        customer=request.auth.customer, service=_service(body.service), quantity=quantity
    )
    return {
        "service": q.service_id,
        "quantity": q.quantity,
        "tier_quantity": q.tier_quantity,
        "unit_price": f"{q.unit_price:.6f}",
        "list_price": _money(q.list_price),
        "level_percent": q.level_percent,
        "amount": _money(q.amount),
    }


def _same_body(order: Order, body: OrderIn, target: str, quantity: int) -> bool:
    return (
        order.service_id == body.service and order.target == target and order.quantity == quantity
    )


@api.post("/orders", response={200: OrderOut, 201: OrderOut, **WRITE_ERRORS}, tags=["orders"])
def place_order(request, body: OrderIn):
    """Place an order. The same `client_order_id` again answers 200 with the first order
    (nothing new is placed or charged); with a different body it is 409 `client_order_id_conflict`."""
    customer = request.auth.customer
    key = client_order_key(customer.pk, body.client_order_id)
    quantity = parse_quantity(body.quantity)
    target = body.target.strip()
    existing = _customer_orders(request).filter(idempotency_key=key).first()
    if existing is None:
        expected = parse_amount(body.expected_amount) if body.expected_amount is not None else None
        order = order_place(
            customer=customer,
            # order_place re-reads the service with its tiers under the account lock.
            service=_service(body.service, tiers=False),
            target=target,
            quantity=quantity,
            expected_amount=expected,
            idempotency_key=key,
            created_by=customer.user,
            memo=f"API op_{request.auth.prefix}",
        )
        if not getattr(order, "replayed", False):
            return Status(201, _order_out(order))
        existing = _get_order(request, order.number)
    if not _same_body(existing, body, target, quantity):
        raise ApiError(
            CLIENT_ORDER_ID_CONFLICT,
            status=409,
            code="client_order_id_conflict",
            client_order_id=body.client_order_id,
            number=existing.number,
        )
    return Status(200, _order_out(existing))


def _storable_datetime(value: datetime | None) -> datetime | None:
    """An aware datetime in UTC (a naive one is read in TIME_ZONE, as Django does); ValueError
    (a 422) for one that cannot be expressed in UTC, such as year 1 east of Greenwich."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("datetime out of range") from exc


class OrderFilters(Schema):
    status: Order.Status | None = None
    service: int | None = Field(default=None, ge=1, le=MAX_ID)
    client_order_id: str | None = Field(default=None, max_length=64)
    created_after: datetime | None = Field(default=None, description="Inclusive.")
    created_before: datetime | None = Field(default=None, description="Exclusive.")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)

    _aware = field_validator("created_after", "created_before")(_storable_datetime)


@api.get("/orders", response={200: OrderPage, **ERRORS}, tags=["orders"])
def list_orders(request, filters: Query[OrderFilters]):
    """Your orders, newest first, with cursor pagination (`next_cursor`). With
    `client_order_id`, the one order placed with it (or none)."""
    orders = _customer_orders(request)
    if filters.client_order_id is not None:
        orders = orders.filter(
            idempotency_key=client_order_key(request.auth.customer_id, filters.client_order_id)
        )
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.service is not None:
        orders = orders.filter(service_id=filters.service)
    if filters.created_after:
        orders = orders.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        orders = orders.filter(created_at__lt=filters.created_before)
    rows, next_cursor = _keyset_page(orders, filters.cursor, filters.limit)
    return {"items": _orders_out(rows), "next_cursor": next_cursor}


@api.get("/orders/{number}", response={200: OrderOut, **ERRORS}, tags=["orders"])
def get_order(request, number: str):
    """One of your orders with its events."""
    return _order_out(_get_order(request, number))


@api.post("/orders/{number}/cancel", response={200: OrderOut, **WRITE_ERRORS}, tags=["orders"])
def cancel_order(request, number: str):
    """Cancel a pending order and refund it in full; otherwise 409 `not_cancellable` with the
    order's `order_status`."""
    order = _get_order(request, number)
    try:
        order = order_cancel(order=order, actor=request.auth.customer.user, reason="")
    except OrderNotCancellable as exc:
        exc.status_code = _customer_orders(request).get(pk=order.pk).status
        raise
    return _order_out(_get_order(request, order.number))


class EntryFilters(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


@api.get("/entries", response={200: EntryPage, **ERRORS}, tags=["account"])
def list_entries(request, filters: Query[EntryFilters]):
    """Your ledger (every credit and debit), newest first, with cursor pagination."""
    entries = entries_of(customer_id=request.auth.customer_id).select_related(None).using(PRIMARY)
    rows, next_cursor = _keyset_page(entries, filters.cursor, filters.limit)
    return {
        "items": [
            {
                "id": e.pk,
                "kind": e.kind,
                "amount": _money(e.amount),
                "balance_after": _money(e.balance_after),
                "order_number": e.order_number,
                "memo": e.memo,
                "created_at": e.created_at,
            }
            for e in rows
        ],
        "next_cursor": next_cursor,
    }
