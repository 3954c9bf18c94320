"""Top-up requests (充值申请): submit, approve once, reject, who may decide, bad input."""

import io
import threading
import uuid
from decimal import Decimal

import pytest
import sms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections
from django.urls import reverse
from django.utils import translation
from PIL import Image

from customers.tests.factories import StaffFactory, make_customer
from wallet.exceptions import (
    TOPUP_NOT_ALLOWED,
    TOPUP_NOT_PENDING,
    TOPUP_OWN_REQUEST,
    InvalidAmount,
    TopUpError,
)
from wallet.models import Entry, TopUpRequest
from wallet.selectors import balance_of
from wallet.services import (
    topup_key,
    topup_request_approve,
    topup_request_reject,
    topup_request_submit,
)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def customer(db):
    return make_customer(username=f"c-{uuid.uuid4().hex[:6]}", mobile="13800138001")


def submit(customer, reference="T20261202001", amount="100.00", proof=None):
    return topup_request_submit(
        customer_id=customer.pk,
        submitted_by=customer.user,
        amount=amount,
        method="bank_transfer",
        payer="张三 6222****1234",
        reference=reference,
        proof=proof,
    )


def test_approve_twice_recharges_once_and_tells_the_customer(
    customer, finance, django_capture_on_commit_callbacks
):
    request = submit(customer)
    with django_capture_on_commit_callbacks(execute=True):
        approved = topup_request_approve(request_id=request.pk, actor=finance)
    assert approved.status == "approved"
    assert approved.entry.idempotency_key == topup_key(request.pk)
    assert approved.decided_by == finance
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert "100.00" in sms.outbox[-1].body and "13800138001" in str(sms.outbox[-1].recipients)

    with pytest.raises(TopUpError) as refused:
        topup_request_approve(request_id=request.pk, actor=finance)
    assert str(TOPUP_NOT_PENDING).split("%")[0] in refused.value.message
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert Entry.objects.filter(kind="recharge").count() == 1


def test_reject_then_approve_is_refused(customer, finance, django_capture_on_commit_callbacks):
    request = submit(customer)
    with django_capture_on_commit_callbacks(execute=True):
        topup_request_reject(request_id=request.pk, actor=finance, reason="未收到款项")
    assert "未收到款项" in sms.outbox[-1].body
    with pytest.raises(TopUpError):
        topup_request_approve(request_id=request.pk, actor=finance)
    request.refresh_from_db()
    assert (request.status, request.reason, request.entry) == ("rejected", "未收到款项", None)
    assert balance_of(customer_id=customer.pk) == Decimal("0.00")


def test_reject_needs_a_reason(customer, finance):
    request = submit(customer)
    with pytest.raises(TopUpError):
        topup_request_reject(request_id=request.pk, actor=finance, reason="  ")
    request.refresh_from_db()
    assert request.status == "pending"


def test_support_cannot_decide(customer, support):
    request = submit(customer)
    for decide in (
        lambda: topup_request_approve(request_id=request.pk, actor=support),
        lambda: topup_request_reject(request_id=request.pk, actor=support, reason="no"),
    ):
        with pytest.raises(TopUpError) as refused:
            decide()
        assert refused.value.message == str(TOPUP_NOT_ALLOWED)
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Entry.objects.exists()


def test_the_uploader_cannot_approve_their_own_request(roles):
    cashier = StaffFactory(username="cashier2", role="财务")
    customer = make_customer(username="c-own", mobile="13800138002")
    request = topup_request_submit(
        customer_id=customer.pk,
        submitted_by=cashier,
        amount="50",
        method="alipay",
        payer="x",
        reference="R1",
    )
    with pytest.raises(TopUpError) as refused:
        topup_request_approve(request_id=request.pk, actor=cashier)
    assert refused.value.message == str(TOPUP_OWN_REQUEST)
    assert not Entry.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "1.001", "abc", "１００", "99999999999"])
def test_bad_amounts_write_nothing(customer, amount):
    with pytest.raises(InvalidAmount):
        submit(customer, amount=amount)
    assert not TopUpRequest.objects.exists()


def test_the_same_reference_twice_is_refused_but_another_customer_may_use_it(customer):
    submit(customer, reference="DUP-1")
    with pytest.raises(TopUpError):
        submit(customer, reference="DUP-1")
    other = make_customer(username="c-other", mobile="13800138003")
    submit(other, reference="DUP-1")
    assert TopUpRequest.objects.count() == 2


# --- the portal -------------------------------------------------------------------------------


@pytest.fixture
def portal(client, customer):
    client.force_login(customer.user)
    return client


def form(**overrides):
    data = {
        "amount": "200.50",
        "method": "wechat",
        "payer": "wx_zhangsan",
        "reference": "WX-0001",
    }
    return {**data, **overrides}


def test_customer_submits_with_a_proof_and_sees_the_list(portal, customer):
    proof = SimpleUploadedFile("转账.png", png_bytes(), content_type="image/png")
    response = portal.post(reverse("portal:topup_list"), form(proof=proof))
    assert response.status_code == 302
    request = TopUpRequest.objects.get()
    assert (request.amount, request.method, request.status) == (
        Decimal("200.50"),
        "wechat",
        "pending",
    )
    assert request.proof.name.endswith(".png") and "转账" not in request.proof.name
    page = portal.get(reverse("portal:topup_list")).content.decode()
    assert "WX-0001" in page and "200.50" in page
    image = portal.get(reverse("portal:topup_proof", args=[request.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == png_bytes()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"method": "bitcoin"}, "method"),
        ({"reference": ""}, "reference"),
        ({"proof": SimpleUploadedFile("a.png", b"<html>not an image", "image/png")}, "proof"),
        ({"proof": SimpleUploadedFile("a.gif", b"GIF89a" + b"\0" * 20, "image/gif")}, "proof"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(portal, overrides, field):
    response = portal.post(reverse("portal:topup_list"), form(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not TopUpRequest.objects.exists()


def test_an_oversize_proof_is_refused(portal, settings):
    settings.WALLET_TOPUP_PROOF_MAX_BYTES = 100
    proof = SimpleUploadedFile("big.png", png_bytes() + b"\0" * 200, content_type="image/png")
    response = portal.post(reverse("portal:topup_list"), form(proof=proof))
    assert response.status_code == 400 and response.context["form"].errors["proof"]
    assert not TopUpRequest.objects.exists()


def test_a_duplicate_reference_is_a_form_error(portal):
    portal.post(reverse("portal:topup_list"), form())
    response = portal.post(reverse("portal:topup_list"), form(amount="300"))
    assert response.status_code == 400 and response.context["form"].errors["reference"]
    assert TopUpRequest.objects.count() == 1


def test_another_customer_gets_404_for_the_request_and_its_image(client, customer):
    request = submit(customer, proof=SimpleUploadedFile("p.png", png_bytes(), "image/png"))
    other = make_customer(username="c-nosy", mobile="13800138009")
    client.force_login(other.user)
    assert client.get(reverse("portal:topup_proof", args=[request.pk])).status_code == 404
    assert "T20261202001" not in client.get(reverse("portal:topup_list")).content.decode()


def test_the_admin_proof_is_for_finance_only(client, customer, finance, support):
    request = submit(customer, proof=SimpleUploadedFile("p.png", png_bytes(), "image/png"))
    url = reverse("admin:wallet_topuprequest_proof", args=[request.pk])
    client.force_login(support)
    assert client.get(url).status_code == 403
    client.force_login(finance)
    assert client.get(url).status_code == 200


def test_support_cannot_approve_in_the_admin(client, customer, support):
    request = submit(customer)
    client.force_login(support)
    client.post(reverse("admin:wallet_topuprequest_approve", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == "pending"
    assert balance_of(customer_id=customer.pk) == Decimal("0.00")


def test_finance_approves_in_the_admin(client, customer, finance):
    request = submit(customer)
    client.force_login(finance)
    queue = client.get(reverse("admin:wallet_topuprequest_changelist")).content.decode()
    assert "T20261202001" in queue
    page = client.get(reverse("admin:wallet_topuprequest_change", args=[request.pk]))
    assert 'id="topup-approve"' in page.content.decode()
    for _ in range(2):
        client.post(reverse("admin:wallet_topuprequest_approve", args=[request.pk]))
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


# --- concurrency on MariaDB ---------------------------------------------------------------------


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_recharge_once(roles):
    finance_a = StaffFactory(username="fa", role="财务")
    finance_b = StaffFactory(username="fb", role="财务")
    customer = make_customer(username="c-race", mobile="13800138010")
    request = submit(customer)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(actor):
        barrier.wait()
        try:
            topup_request_approve(request_id=request.pk, actor=actor)
            outcomes.append("ok")
        except TopUpError:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=approve, args=(a,)) for a in (finance_a, finance_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert Entry.objects.filter(kind="recharge").count() == 1


def test_the_menu_counts_pending_requests_for_finance(client, customer, finance, support):
    submit(customer, reference="M-1")
    submit(customer, reference="M-2")
    client.force_login(finance)
    with translation.override("en"):
        page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "(2)" in page and reverse("admin:wallet_topuprequest_changelist") in page
    client.force_login(support)
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:wallet_topuprequest_changelist") not in page


def test_a_transfer_already_on_the_ledger_is_not_credited_again(customer, finance):
    """Approving records the request's method and reference on the entry: a transfer that
    staff already entered (or another request already credited) is refused, nothing written."""
    from wallet.exceptions import DuplicatePaymentReference
    from wallet.services import wallet_recharge

    wallet_recharge(
        customer_id=customer.pk,
        amount="100.00",
        created_by=finance,
        idempotency_key="staff-entered",
        payment_method="bank_transfer",
        payment_reference="T20261202009",
    )
    request = submit(customer, reference="T20261202009")
    with pytest.raises(DuplicatePaymentReference):
        topup_request_approve(request_id=request.pk, actor=finance)
    request.refresh_from_db()
    assert request.status == "pending"
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert Entry.objects.count() == 1

    approved = topup_request_approve(request_id=submit(customer, "T20261202010").pk, actor=finance)
    entry = approved.entry
    assert (entry.payment_method, entry.payment_reference) == ("bank_transfer", "T20261202010")
