"""Every endpoint with good and bad input; one customer's key never reaches another's orders."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order, PriceTier
from orders.services import order_start
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db

URL = "https://example.com/page"


def place(api, service_obj, client_order_id="c-1", **extra):
    body = {
        "service": service_obj.pk,
        "target": URL,
        "quantity": 100,
        "client_order_id": client_order_id,
    }
    return api.post("/orders", {**body, **extra})


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["title"] and body["detail"] and body["type"].endswith(f"#problem-{code}")
    return body


# -- services, balance, quote -----------------------------------------------------------------


def test_services_lists_active_priced_services_at_the_customers_level(api, service):
    ServiceFactory(name="停用", is_active=False)
    ServiceFactory(name="无价", tiers=[]).tiers.all().delete()
    PriceTier.objects.filter(service__name="无价").delete()
    pattern = ServiceFactory(
        name="账号",
        target_kind="pattern",
        target_pattern=r"[a-z]{3,10}",
        min_quantity=5,
        tiers=[(10, "5.00")],
    )
    response = api.get("/services")
    assert response.status_code == 200
    by_name = {s["name"]: s for s in response.json()}
    assert set(by_name) == {"网站访问", "账号"}
    assert by_name["网站访问"]["tiers"] == [
        {"quantity": 1, "list_price": "1.00", "price": "0.90"},
        {"quantity": 1000, "list_price": "800.00", "price": "720.00"},
    ]
    assert by_name["账号"]["min_quantity"] == 10  # the first tier, above the service minimum
    assert by_name["账号"]["target_kind"] == "pattern" and by_name["账号"]["id"] == pattern.pk


def test_balance(api, customer):
    assert api.get("/balance").json() == {
        "balance": "1000.00",
        "currency": "CNY",
        "level": "黄金",
        "level_percent": 90,
    }


def test_quote(api, service):
    body = api.post("/quote", {"service": service.pk, "quantity": "1000"}).json()
    assert (
        body["amount"] == "720.00"
        and body["list_price"] == "800.00"
        and body["tier_quantity"] == 1000
    )
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("quantity", "status", "code"),
    [
        ("1,000", 422, "invalid_quantity"),
        ("１００", 422, "invalid_quantity"),
        ("1e3", 422, "invalid_quantity"),
        (0, 422, "invalid_quantity"),
        (100_001, 422, "invalid_quantity"),
        (1.5, 422, "invalid_input"),
        (True, 422, "invalid_input"),
        (None, 422, "invalid_input"),
    ],
)
def test_quote_refuses_bad_quantities(api, service, quantity, status, code):
    assert_problem(api.post("/quote", {"service": service.pk, "quantity": quantity}), status, code)


def test_quote_unknown_or_inactive_service(api, service):
    assert_problem(
        api.post("/quote", {"service": 999999, "quantity": 1}), 422, "service_unavailable"
    )
    service.is_active = False
    service.save()
    assert_problem(
        api.post("/quote", {"service": service.pk, "quantity": 1}), 422, "service_unavailable"
    )


# -- placing ----------------------------------------------------------------------------------


def test_place_debits_once_and_a_repeat_returns_the_same_order(api, customer, service):
    first = place(api, service)
    assert first.status_code == 201
    body = first.json()
    assert body["client_order_id"] == "c-1" and body["amount"] == "90.00"
    assert body["status"] == "pending" and body["events"][0]["to_status"] == "pending"
    again = place(api, service)
    assert again.status_code == 200
    assert again.json() == body
    assert Order.objects.count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("910.00")
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).count() == 1


def test_same_client_order_id_with_another_body_is_409(api, service):
    number = place(api, service).json()["number"]
    for change in ({"quantity": 101}, {"target": URL + "2"}, {"service": ServiceFactory().pk}):
        body = assert_problem(place(api, service, **change), 409, "client_order_id_conflict")
        assert number in body["detail"]
    assert Order.objects.count() == 1


def test_client_order_id_is_per_customer(api, other_api, service):
    mine = place(api, service).json()
    theirs = place(other_api, service).json()
    assert mine["number"] != theirs["number"]
    assert theirs["client_order_id"] == "c-1"


def test_expected_amount(api, service):
    assert place(api, service, "ok", expected_amount="90.00").status_code == 201
    body = assert_problem(
        place(api, service, "changed", expected_amount="100.00"), 409, "price_changed"
    )
    assert body["amount"] == "90.00"
    for bad in ("90", "abc", "90.001", "-1.00"):
        response = place(api, service, "bad", expected_amount=bad)
        assert response.status_code == 422, bad
    assert Order.objects.count() == 1


def test_insufficient_funds_inactive_service_bad_target_are_4xx_with_codes(api, customer, service):
    assert_problem(place(api, service, "rich", quantity=5000), 402, "insufficient_funds")
    assert_problem(place(api, service, "t", target="not a url"), 422, "invalid_target")
    assert_problem(place(api, service, "t2", target="   "), 422, "invalid_target")
    assert_problem(place(api, service, "q", quantity="ten"), 422, "invalid_quantity")
    service.is_active = False
    service.save()
    assert_problem(place(api, service, "off"), 422, "service_unavailable")
    assert Order.objects.count() == 0
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"service": "1", "target": URL, "quantity": 1, "client_order_id": "x"},
        {"service": 1, "target": URL, "quantity": 1},
        {"service": 1, "target": URL, "quantity": 1, "client_order_id": ""},
        {"service": 1, "target": URL, "quantity": 1, "client_order_id": "has space"},
        {"service": 1, "target": URL, "quantity": 1, "client_order_id": "x" * 65},
        {"service": 1, "target": 5, "quantity": 1, "client_order_id": "x"},
        {
            "service": 1,
            "target": URL,
            "quantity": 1,
            "client_order_id": "x",
            "expected_amount": 1.5,
        },
    ],
)
def test_place_validation_errors(api, service, body):
    body = assert_problem(api.post("/orders", body), 422, "invalid_input")
    assert body["errors"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "missing", "too_long", "not_whole"),
    [
        ("zh-hans", "此项必填。", "最多输入 64 个字符。", "请输入整数。"),
        ("en", "This field is required.", "Enter at most 64 characters.", "Enter a whole number."),
    ],
)
def test_schema_errors_speak_the_requests_language(
    api, service, language, missing, too_long, not_whole
):
    # service sent as text, client_order_id too long, target missing: three errors, each named.
    bad = {"service": "one", "quantity": 1, "client_order_id": "x" * 65}
    body = assert_problem(
        api.post("/orders", bad, **{"Accept-Language": language}), 422, "invalid_input"
    )
    messages = {".".join(e["loc"][1:]): (e["type"], e["msg"]) for e in body["errors"]}
    assert messages["target"] == ("missing", missing)
    assert messages["client_order_id"] == ("string_too_long", too_long)
    assert messages["service"] == ("int_type", not_whole)  # strict: no text for a number
    assert too_long in body["detail"] and missing in body["detail"]


def test_body_that_is_not_json(api, service):
    response = api.client.post(
        "/api/v1/orders",
        "service=1",
        content_type="application/x-www-form-urlencoded",
        headers=api.headers,
    )
    assert_problem(response, 400, "invalid_json")
    response = api.client.post(
        "/api/v1/orders", "{nope", content_type="application/json", headers=api.headers
    )
    assert_problem(response, 400, "invalid_json")


def test_deactivated_customer_cannot_place(api, customer, service):
    customer.is_active = False
    customer.save()
    assert_problem(place(api, service), 403, "customer_inactive")


# -- reading ----------------------------------------------------------------------------------


def test_get_order_and_by_client_order_id(api, service):
    placed = place(api, service, "lookup").json()
    assert api.get(f"/orders/{placed['number']}").json() == placed
    page = api.get("/orders", {"client_order_id": "lookup"}).json()
    assert page["items"] == [placed] and page["next_cursor"] is None
    assert api.get("/orders", {"client_order_id": "nope"}).json()["items"] == []
    assert_problem(api.get("/orders/20200101000000000000"), 404, "order_not_found")


def test_list_filters_and_cursor_pagination(api, customer, service):
    other = ServiceFactory(name="其他")
    numbers = [place(api, service, f"p{i}", quantity=10).json()["number"] for i in range(5)]
    numbers.append(place(api, other, "o", quantity=10).json()["number"])
    # Spread creation times so the created range is meaningful.
    now = timezone.now()
    for age, number in enumerate(reversed(numbers)):
        Order.objects.filter(number=number).update(created_at=now - timedelta(hours=age))
    seen, cursor = [], None
    while True:
        page = api.get("/orders", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [o["number"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(numbers))
    assert [o["number"] for o in api.get("/orders", {"service": other.pk}).json()["items"]] == [
        numbers[-1]
    ]
    assert len(api.get("/orders", {"status": "pending"}).json()["items"]) == 6
    assert api.get("/orders", {"status": "completed"}).json()["items"] == []
    recent = api.get(
        "/orders", {"created_after": (now - timedelta(hours=1, minutes=30)).isoformat()}
    )
    assert [o["number"] for o in recent.json()["items"]] == [numbers[-1], numbers[-2]]
    old = api.get("/orders", {"created_before": (now - timedelta(hours=4, minutes=30)).isoformat()})
    assert [o["number"] for o in old.json()["items"]] == [numbers[0]]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "garbage!"}, "invalid_cursor"),
        ({"cursor": "WzEsMl0"}, "invalid_cursor"),
        ({"limit": 0}, "invalid_input"),
        ({"limit": 101}, "invalid_input"),
        ({"status": "lost"}, "invalid_input"),
        ({"created_after": "yesterday"}, "invalid_input"),
        ({"service": "x"}, "invalid_input"),
    ],
)
def test_list_bad_parameters(api, params, code):
    assert_problem(api.get("/orders", params), 400 if code == "invalid_cursor" else 422, code)


def test_entries_with_cursor(api, customer, service):
    for i in range(3):
        place(api, service, f"e{i}", quantity=10)
    first = api.get("/entries", {"limit": 2}).json()
    assert [e["kind"] for e in first["items"]] == ["order_debit", "order_debit"]
    assert first["items"][0]["amount"] == "-9.00" and first["items"][0]["balance_after"] == "973.00"
    rest = api.get("/entries", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["kind"] for e in rest["items"]] == ["order_debit", "recharge"]
    assert rest["next_cursor"] is None
    assert_problem(api.get("/entries", {"cursor": "%%%"}), 400, "invalid_cursor")


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_pending_refunds_then_409_with_status(api, customer, service):
    number = place(api, service).json()["number"]
    response = api.post(f"/orders/{number}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["refunded_amount"] == "90.00"
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")
    again = assert_problem(api.post(f"/orders/{number}/cancel"), 409, "not_cancellable")
    assert again["order_status"] == "cancelled"


def test_cancel_running_is_409(api, service):
    number = place(api, service).json()["number"]
    order_start(
        order=Order.objects.get(number=number),
        agent="a1",
        lease_until=timezone.now() + timedelta(minutes=1),
    )
    assert (
        assert_problem(api.post(f"/orders/{number}/cancel"), 409, "not_cancellable")["order_status"]
        == "running"
    )


# -- isolation --------------------------------------------------------------------------------


def test_a_key_never_reads_or_touches_another_customers_orders(
    api, other_api, other_customer, service
):
    theirs = place(other_api, service, "secret").json()
    number = theirs["number"]
    assert_problem(api.get(f"/orders/{number}"), 404, "order_not_found")
    assert_problem(api.post(f"/orders/{number}/cancel"), 404, "order_not_found")
    assert api.get("/orders").json()["items"] == []
    assert api.get("/orders", {"client_order_id": "secret"}).json()["items"] == []
    assert all(e["order_number"] != number for e in api.get("/entries").json()["items"])
    assert Order.objects.get(number=number).status == "pending"
    assert balance_of(customer_id=other_customer.pk) == Decimal("410.00")


# -- protocol errors --------------------------------------------------------------------------


def test_unknown_path_and_wrong_method_are_problems(api):
    assert_problem(api.get("/nothing-here"), 404, "not_found")
    response = api.client.delete("/api/v1/orders", headers=api.headers)
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_problem_details_in_the_requests_language(service):
    from api.tests.conftest import ApiClient

    chinese = ApiClient(None).get("/balance").json()
    assert chinese["title"] == "需要认证" and "请在 Authorization" in chinese["detail"]
    english = ApiClient(None, **{"Accept-Language": "en"}).get("/balance")
    assert english["Content-Language"] == "en"
    assert english.json()["title"] == "Authentication required"
    assert english.json()["detail"].startswith("Send your API key")
    assert ApiClient(None, **{"Accept-Language": "en"}).get("/nope").json()["detail"] == (
        "Nothing was found at this address."
    )
    assert ApiClient(None).get("/nope").json()["detail"] == "此地址下没有内容。"


def test_domain_error_in_english_and_chinese(api, service):
    english = api.post(
        "/quote", {"service": service.pk, "quantity": 0}, **{"Accept-Language": "en"}
    )
    assert english.json()["detail"] == "The quantity must be between 1 and 100000."
    chinese = api.post("/quote", {"service": service.pk, "quantity": 0})
    assert "数量" in chinese.json()["detail"]


def test_openapi_schema_and_docs_page(client, service):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/orders", "/api/v1/orders/{number}/cancel", "/api/v1/entries"} <= set(
        schema["paths"]
    )
    errors = schema["paths"]["/api/v1/orders"]["post"]["responses"]["409"]["content"]
    assert list(errors) == ["application/problem+json"]
    page = client.get("/api/v1/docs")
    html = page.content.decode()
    assert page.status_code == 200
    assert "curl -sS -X POST http://testserver/api/v1/orders" in html
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert all(src.startswith("/static/") for src in scripts), scripts
    assert re.findall(r"<script(?![^>]*(src=|type=\"application/json\"))", html) == []


def test_a_server_error_is_a_problem_too(token, monkeypatch):
    from django.test import Client

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.api.balance_of", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/balance", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 500, "server_error")
    assert "boom" not in body["detail"]


def test_cursor_pages_through_rows_with_the_same_timestamp(api, service):
    numbers = {place(api, service, f"tie{i}", quantity=5).json()["number"] for i in range(5)}
    Order.objects.update(created_at=timezone.now())
    seen, cursor = [], None
    while True:
        page = api.get("/orders", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and set(seen) == numbers


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/orders", {"service": 10**30}, 422),
        ("get", "/orders", {"service": 0}, 422),
        ("post", "/quote", {"service": 10**30, "quantity": 1}, 422),
        ("post", "/quote", {"service": "SERVICE", "quantity": 10**30}, 422),
        ("post", "/quote", {"service": "SERVICE", "quantity": "9" * 40}, 422),
        (
            "post",
            "/orders",
            {"service": 10**30, "quantity": 1, "target": URL, "client_order_id": "b"},
            422,
        ),
        ("get", "/orders/" + "9" * 300, None, 404),
        ("get", "/orders", {"created_after": "0001-01-01T00:00:00"}, 422),
        ("get", "/orders", {"created_before": "9999-12-31T23:59:59-14:00"}, 422),
        ("get", "/orders", {"created_after": "9999-12-31T23:59:59+14:00"}, 200),
        ("get", "/orders", {"created_after": "2026-01-01T00:00:00"}, 200),
        (
            "post",
            "/orders",
            {
                "service": "SERVICE",
                "quantity": 1,
                "target": URL + "a" * 490,
                "client_order_id": "c",
            },
            422,
        ),
    ],
)
def test_out_of_range_input_is_4xx_never_500(api, service, method, path, data, status):
    if isinstance(data, dict) and data.get("service") == "SERVICE":
        data = {**data, "service": service.pk}
    response = api.get(path, data) if method == "get" else api.post(path, data)
    assert response.status_code == status, response.content
