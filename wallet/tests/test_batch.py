"""Batch recharge from a file: reading, checking, applying once, approval, permissions, and
every bad file refused with a clear message and nothing written."""

import io
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from customers.tests.factories import StaffFactory, make_customer
from wallet.batch import (
    ALREADY_UPLOADED,
    APPROVE_NOT_ALLOWED,
    OWN_BATCH,
    BatchAlreadyUploaded,
    BatchApplyFailed,
    BatchError,
    batch_approve,
    batch_confirm,
    batch_preview,
    batch_reject,
)
from wallet.batch_files import (
    FILE_BROKEN,
    FILE_DUPLICATE_COLUMN,
    FILE_EMPTY,
    FILE_MISSING_COLUMNS,
    FILE_NO_ROWS,
    FILE_NOT_GBK,
    FILE_NOT_UTF8_LOOKS_GBK,
    FILE_OLD_XLS,
    FILE_TOO_BIG,
    FILE_TOO_MANY_ROWS,
    FILE_UNKNOWN_COLUMNS,
    BatchFileError,
)
from wallet.batch_rows import ROW_ERRORS, row_key, row_messages
from wallet.models import Entry, RechargeBatch
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = pytest.mark.django_db

HEADER = "customer,amount,payment reference,method,memo"


@pytest.fixture
def admin_user(roles):
    return StaffFactory(username="boss", role="管理员")


@pytest.fixture
def admin_two(roles):
    return StaffFactory(username="boss2", role="管理员")


@pytest.fixture
def alice(db):
    return make_customer(username="alice", mobile="13900000001", name="爱丽丝")


@pytest.fixture
def bob(db):
    return make_customer(username="bob", mobile="13900000002", name="鲍勃")


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview(data: bytes, user, **kwargs) -> RechargeBatch:
    return batch_preview(data=data, file_name="t.csv", uploaded_by=user, **kwargs)


def codes(batch: RechargeBatch) -> list[tuple[int, str, str]]:
    return [(row["row"], e[0], e[1]) for row in batch.rows for e in row["errors"]]


def nothing_written() -> None:
    assert Entry.objects.count() == 0


# -- reading and checking -------------------------------------------------------------------


def test_preview_counts_totals_and_balances_without_moving_money(finance, alice, bob):
    wallet_recharge(customer_id=alice.pk, amount="10", created_by=None, idempotency_key="seed")
    data = csv_bytes(
        "alice,100,TX 001,bank_transfer,March",
        "13900000002,50.5,,现金,",
        "+8613900000001,0.50,tx002,Alipay,",
    )
    batch = preview(data, finance)
    assert batch.status == RechargeBatch.Status.PREVIEWED
    assert (batch.row_count, batch.error_count, batch.total) == (3, 0, Decimal("151.00"))
    first, second, third = batch.rows
    assert (first["customer_id"], first["reference"], first["method"]) == (
        alice.pk,
        "TX001",
        "bank_transfer",
    )
    assert (first["balance"], first["after"]) == ("10.00", "110.00")
    assert (second["customer_id"], second["method"], second["amount"]) == (bob.pk, "cash", "50.50")
    # Running balance: alice's second row starts where her first ended.
    assert (third["balance"], third["after"]) == ("110.00", "110.50")
    assert Entry.objects.count() == 1 and balance_of(customer_id=alice.pk) == Decimal("10.00")


def test_chinese_headers_and_bracketed_names_are_accepted(finance, alice):
    header = "客户（用户名或手机号）,金额(元),付款流水号,付款方式,备注"
    batch = preview(csv_bytes("alice,1,A1,银行转账,备注", header=header), finance)
    assert batch.error_count == 0 and batch.rows[0]["method"] == "bank_transfer"


def test_every_bad_row_is_reported_by_row_and_column(finance, alice):
    wallet_recharge(
        customer_id=alice.pk,
        amount="1",
        created_by=None,
        idempotency_key="old",
        payment_method="bank_transfer",
        payment_reference="OLD1",
    )
    data = csv_bytes(
        "nobody,100,,cash,",  # 2 unknown customer
        "alice,1e3,,cash,",  # 3 bad amount
        "alice,0,,cash,",  # 4 not positive
        "alice,1.005,,cash,",  # 5 too precise
        "alice,5,,paypal,",  # 6 bad method
        "alice,5,,,",  # 7 no method
        "alice,5,old 1,bank_transfer,",  # 8 reference in the ledger
        "alice,5,R9,cash,",  # 9
        "alice,5,r 9,cash,",  # 10 same reference again in the file
        "alice,7,,cash,same",  # 11
        "alice,7,,cash,same",  # 12 repeats row 11
        "alice,=1+1,,cash,",  # 13 formula
        "alice,5," + "X" * 65 + ",cash,",  # 14 reference too long
        ",5,,cash,",  # 15 no customer
    )
    batch = preview(data, finance)
    assert set(codes(batch)) == {
        (2, "customer", "customer_unknown"),
        (3, "amount", "amount_not_a_number"),
        (4, "amount", "amount_not_positive"),
        (5, "amount", "amount_too_precise"),
        (6, "method", "method_unknown"),
        (7, "method", "method_required"),
        (8, "reference", "reference_in_ledger"),
        (10, "reference", "reference_in_file"),
        (12, "customer", "row_repeated"),
        (13, "amount", "formula"),
        (14, "reference", "reference_too_long"),
        (15, "customer", "customer_required"),
    }
    assert batch.error_count == 12
    # Each message is the readable text, with the earlier entry or row named.
    ledger_row = next(r for r in batch.rows if r["row"] == 8)
    assert "OLD1" in row_messages(ledger_row)[0][1]
    file_row = next(r for r in batch.rows if r["row"] == 10)
    assert "9" in row_messages(file_row)[0][1]
    with pytest.raises(BatchError, match="12"):
        batch_confirm(batch_id=batch.pk, actor=finance)
    assert Entry.objects.count() == 1


def test_xlsx_is_read_and_formula_cells_and_numeric_references_are_refused(finance, alice, bob):
    data = xlsx_bytes(
        [
            ["客户", "金额", "流水号", "方式", "备注"],
            [13900000001, 100.5, "R1", "微信支付", None],
            ["bob", "=A1*2", "R2", "wechat", None],
            ["bob", 3, 2.0240101880001234e17, "wechat", None],
            [None, None, None, None, None],
        ]
    )
    batch = preview(data, finance)
    assert batch.row_count == 3
    assert batch.rows[0]["customer_id"] == alice.pk and batch.rows[0]["amount"] == "100.50"
    assert set(codes(batch)) == {(3, "amount", "formula"), (4, "reference", "number_reference")}


def test_unknown_includes_customers_the_uploader_may_not_see(roles, alice):
    # An account manager given the recharge permission sees only their own customers.
    from django.contrib.auth.models import Permission

    manager = StaffFactory(username="am2", role="客户经理")
    manager.user_permissions.add(Permission.objects.get(codename="recharge_account"))
    batch = preview(csv_bytes("alice,1,,cash,"), manager)
    assert codes(batch) == [(2, "customer", "customer_unknown")]


# -- bad files: a clear message, nothing written ---------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "message"),
    [
        (b"", "auto", FILE_EMPTY),
        (b"\n\n", "auto", FILE_EMPTY),
        (HEADER.encode() + b"\n", "auto", FILE_NO_ROWS),
        (b"customer,amount\nalice,1\n", "auto", FILE_MISSING_COLUMNS),
        (b"customer,amount,method,colour\nalice,1,cash,red\n", "auto", FILE_UNKNOWN_COLUMNS),
        ("客户,金额,方式\n爱丽丝,1,现金\n".encode("gbk"), "auto", FILE_NOT_UTF8_LOOKS_GBK),
        (b"\x80\x80 garbage", "gbk", FILE_NOT_GBK),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "auto", FILE_OLD_XLS),
        (b"PK\x03\x04 not really a zip", "auto", FILE_BROKEN),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "auto", FILE_BROKEN),
        ("customer,amount,method\nalice,1,cash\n".encode("utf-16"), "auto", FILE_BROKEN),
        (b"customer,amount,method,amount\nalice,1,cash,2\n", "auto", FILE_DUPLICATE_COLUMN),
    ],
    ids=[
        "empty",
        "blank",
        "no-rows",
        "missing",
        "unknown",
        "gbk",
        "not-gbk",
        "xls",
        "broken-zip",
        "png",
        "utf16",
        "doubled-column",
    ],
)
def test_bad_files_are_refused_and_nothing_is_recorded(finance, alice, data, encoding, message):
    with pytest.raises(BatchFileError) as caught:
        preview(data, finance, encoding=encoding)
    head = str(message).split("%")[0]
    assert caught.value.message.startswith(head)
    assert RechargeBatch.objects.count() == 0
    nothing_written()


def test_gbk_is_read_when_chosen(finance, alice):
    data = "客户,金额,方式,备注\nalice,1,现金,三月\n".encode("gbk")
    batch = preview(data, finance, encoding="gbk")
    assert batch.error_count == 0 and batch.rows[0]["memo"] == "三月" and batch.encoding == "gbk"


@override_settings(WALLET_BATCH_MAX_ROWS=3)
def test_over_the_row_limit_is_refused(finance, alice):
    with pytest.raises(BatchFileError) as caught:
        preview(csv_bytes(*[f"alice,1,,cash,{i}" for i in range(4)]), finance)
    assert caught.value.message == str(FILE_TOO_MANY_ROWS) % {"max": 3}
    assert RechargeBatch.objects.count() == 0


@override_settings(WALLET_BATCH_MAX_BYTES=100)
def test_over_the_size_limit_is_refused(finance, alice):
    with pytest.raises(BatchFileError) as caught:
        preview(csv_bytes(*[f"alice,1,,cash,{i}" for i in range(10)]), finance)
    assert caught.value.message.startswith(str(FILE_TOO_BIG).split("%")[0])
    assert RechargeBatch.objects.count() == 0


# -- applying once ---------------------------------------------------------------------------


def test_confirm_writes_one_entry_per_row_with_keys_from_the_file(finance, alice, bob):
    data = csv_bytes("alice,100,T1,bank_transfer,", "bob,20,,cash,memo b", "alice,1,,cash,")
    batch = preview(data, finance)
    batch = batch_confirm(batch_id=batch.pk, actor=finance)
    assert batch.status == RechargeBatch.Status.APPLIED and batch.applied_at
    assert batch.result["created"] == 3 and batch.result["replayed"] == 0
    entries = Entry.objects.order_by("id")
    assert {e.idempotency_key for e in entries} == {row_key(batch.file_hash, n) for n in (2, 3, 4)}
    assert balance_of(customer_id=alice.pk) == Decimal("101.00")
    assert balance_of(customer_id=bob.pk) == Decimal("20.00")
    t1 = Entry.objects.get(payment_reference="T1")
    assert (t1.payment_method, t1.created_by, t1.kind) == ("bank_transfer", finance, "recharge")
    assert Entry.objects.get(account__customer=bob).memo == "memo b"
    assert f"#{batch.pk}" in Entry.objects.get(amount=1).memo  # the default memo


def test_the_same_file_uploaded_twice_recharges_once(finance, alice):
    data = csv_bytes("alice,100,T1,bank_transfer,", "alice,5,,cash,")
    first = preview(data, finance)
    batch_confirm(batch_id=first.pk, actor=finance)
    with pytest.raises(BatchAlreadyUploaded) as caught:
        preview(data, finance)
    assert caught.value.batch == first
    assert caught.value.message.startswith(str(ALREADY_UPLOADED).split("%")[0])
    assert Entry.objects.count() == 2 and balance_of(customer_id=alice.pk) == Decimal("105.00")


def test_two_previews_of_one_file_both_confirmed_recharge_once(finance, alice):
    data = csv_bytes("alice,100,,cash,", "alice,5,,cash,x")
    one, two = preview(data, finance), preview(data, finance)
    batch_confirm(batch_id=one.pk, actor=finance)
    two = batch_confirm(batch_id=two.pk, actor=finance)
    assert two.result["created"] == 0 and two.result["replayed"] == 2
    assert Entry.objects.count() == 2 and balance_of(customer_id=alice.pk) == Decimal("105.00")


def test_confirmed_twice_recharges_once(finance, alice):
    batch = preview(csv_bytes("alice,100,,cash,"), finance)
    batch_confirm(batch_id=batch.pk, actor=finance)
    with pytest.raises(BatchError):
        batch_confirm(batch_id=batch.pk, actor=finance)
    assert Entry.objects.count() == 1


def test_a_row_refused_while_applying_rolls_every_row_back(finance, alice, bob):
    batch = preview(csv_bytes("alice,100,,cash,", "bob,5,LATE,cash,", "bob,6,,cash,"), finance)
    # Between preview and confirm someone enters the same payment by hand.
    wallet_recharge(
        customer_id=alice.pk,
        amount="1",
        created_by=None,
        idempotency_key="by-hand",
        payment_method="cash",
        payment_reference="LATE",
    )
    with pytest.raises(BatchApplyFailed) as caught:
        batch_confirm(batch_id=batch.pk, actor=finance)
    assert "LATE" in caught.value.message
    batch.refresh_from_db()
    assert batch.status == RechargeBatch.Status.PREVIEWED and "LATE" in batch.result["error"]
    assert Entry.objects.count() == 1  # only the one entered by hand
    assert balance_of(customer_id=bob.pk) == Decimal("0.00")


# -- approval --------------------------------------------------------------------------------


@override_settings(WALLET_BATCH_APPROVAL_THRESHOLD=Decimal("100.00"))
def test_above_the_threshold_an_administrator_other_than_the_uploader_approves(
    finance, admin_user, admin_two, alice
):
    batch = preview(csv_bytes("alice,100.01,,cash,"), finance)
    batch = batch_confirm(batch_id=batch.pk, actor=finance)
    assert batch.status == RechargeBatch.Status.AWAITING_APPROVAL
    nothing_written()
    # Finance may not approve, even someone else's batch.
    other_finance = StaffFactory(username="cashier2", role="财务")
    with pytest.raises(BatchError) as caught:
        batch_approve(batch_id=batch.pk, actor=other_finance)
    assert caught.value.message == str(APPROVE_NOT_ALLOWED)
    nothing_written()
    batch = batch_approve(batch_id=batch.pk, actor=admin_user)
    assert batch.status == RechargeBatch.Status.APPLIED and batch.approved_by == admin_user
    assert balance_of(customer_id=alice.pk) == Decimal("100.01")
    assert Entry.objects.get().created_by == admin_user


@override_settings(WALLET_BATCH_APPROVAL_THRESHOLD=Decimal("100.00"))
def test_the_uploader_cannot_approve_their_own_batch(admin_user, admin_two, alice):
    batch = preview(csv_bytes("alice,500,,cash,"), admin_user)
    batch_confirm(batch_id=batch.pk, actor=admin_user)
    with pytest.raises(BatchError) as caught:
        batch_approve(batch_id=batch.pk, actor=admin_user)
    assert caught.value.message == str(OWN_BATCH)
    nothing_written()
    batch_reject(batch_id=batch.pk, actor=admin_two, reason="wrong day")
    batch.refresh_from_db()
    assert batch.status == RechargeBatch.Status.REJECTED and batch.reason == "wrong day"
    with pytest.raises(BatchError):
        batch_approve(batch_id=batch.pk, actor=admin_two)
    nothing_written()


def test_roles_without_the_recharge_permission_cannot_upload(support, alice):
    with pytest.raises(BatchError):
        preview(csv_bytes("alice,1,,cash,"), support)
    assert RechargeBatch.objects.count() == 0


def test_error_messages_exist_for_every_code():
    for message in ROW_ERRORS.values():
        assert str(message)


# -- the admin pages -------------------------------------------------------------------------

UPLOAD = "admin:wallet_rechargebatch_upload"


def _upload(client, data: bytes, name="pay.csv", encoding="auto"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse(UPLOAD), {"file": upload, "encoding": encoding})


def _step(client, batch, step, **data):
    url = reverse(f"admin:wallet_rechargebatch_{step}", args=[batch.pk])
    return client.post(url, data, follow=True)


def test_admin_upload_preview_confirm_and_log(client, finance, alice):
    client.force_login(finance)
    response = _upload(client, csv_bytes("alice,100,T1,bank_transfer,", "13900000001,5,,现金,"))
    batch = RechargeBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:wallet_rechargebatch_change", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "¥105.00" in page and "爱丽丝" in page and 'id="batch-confirm"' in page
    response = _step(client, batch, "confirm")
    assert response.status_code == 200
    assert balance_of(customer_id=alice.pk) == Decimal("105.00")
    assert 'id="batch-result"' in response.content.decode()
    logged = list(LogEntry.objects.filter(object_id=str(batch.pk)).order_by("id"))
    assert [e.action_flag for e in logged] == [1, 2] and logged[0].user == finance
    # Confirming again (back button, double click) changes nothing and says so.
    response = _step(client, batch, "confirm")
    assert Entry.objects.count() == 2
    assert any(
        "nothing was changed" in str(m) or "未作任何更改" in str(m)
        for m in response.context["messages"]
    )


def test_admin_bad_file_shows_the_message_on_the_form(client, finance, alice):
    client.force_login(finance)
    data = "客户,金额,方式\n爱丽丝,1,现金\n".encode("gbk")
    response = _upload(client, data)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == [str(FILE_NOT_UTF8_LOOKS_GBK)]
    assert RechargeBatch.objects.count() == 0
    nothing_written()


@override_settings(WALLET_BATCH_MAX_BYTES=50)
def test_admin_refuses_an_oversized_file_before_reading_it(client, finance, alice):
    client.force_login(finance)
    response = _upload(client, csv_bytes(*["alice,1,,cash,"] * 5))
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert RechargeBatch.objects.count() == 0


def test_admin_uploading_an_applied_file_again_opens_that_batch(client, finance, alice):
    client.force_login(finance)
    data = csv_bytes("alice,100,,cash,")
    _upload(client, data)
    batch = RechargeBatch.objects.get()
    _step(client, batch, "confirm")
    response = _upload(client, data)
    assert response["Location"] == reverse("admin:wallet_rechargebatch_change", args=[batch.pk])
    assert RechargeBatch.objects.count() == 1 and Entry.objects.count() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloads_and_reads_back(client, finance, alice, fmt):
    client.force_login(finance)
    response = client.get(reverse("admin:wallet_rechargebatch_template", args=[fmt]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")
    else:
        assert load_workbook(io.BytesIO(body)).active.cell(2, 1).data_type == "s"
    batch = preview(body, finance)  # its columns are accepted; its example customers unknown
    assert batch.row_count == 2


@override_settings(WALLET_BATCH_APPROVAL_THRESHOLD=Decimal("100.00"))
def test_admin_approval_buttons_follow_the_rules(client, finance, admin_user, alice):
    client.force_login(finance)
    _upload(client, csv_bytes("alice,500,,cash,"))
    batch = RechargeBatch.objects.get()
    _step(client, batch, "confirm")
    batch.refresh_from_db()
    assert batch.status == "awaiting_approval"
    page = client.get(
        reverse("admin:wallet_rechargebatch_change", args=[batch.pk])
    ).content.decode()
    assert 'id="batch-approve"' not in page
    response = _step(client, batch, "approve")  # finance posts anyway: refused
    assert response.status_code == 200 and Entry.objects.count() == 0
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:wallet_rechargebatch_change", args=[batch.pk])
    ).content.decode()
    assert 'id="batch-approve"' in page
    _step(client, batch, "approve")
    batch.refresh_from_db()
    assert batch.status == "applied" and balance_of(customer_id=alice.pk) == Decimal("500.00")
    assert LogEntry.objects.filter(object_id=str(batch.pk), user=admin_user).count() == 2


@pytest.mark.parametrize("who", ["support", "manager"])
def test_staff_without_the_permission_get_403_and_no_menu(client, request, who, alice, finance):
    user = request.getfixturevalue(who)
    batch = preview(csv_bytes("alice,1,,cash,"), finance)
    client.force_login(user)
    assert client.get(reverse(UPLOAD)).status_code == 403
    assert (
        client.get(reverse("admin:wallet_rechargebatch_template", args=["csv"])).status_code == 403
    )
    assert client.get(reverse("admin:wallet_rechargebatch_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:wallet_rechargebatch_change", args=[batch.pk])).status_code == 403
    )
    assert _step(client, batch, "confirm").status_code == 403
    assert Entry.objects.count() == 0
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:wallet_rechargebatch_changelist") not in index


def test_confirm_needs_post(client, finance, alice):
    batch = preview(csv_bytes("alice,1,,cash,"), finance)
    client.force_login(finance)
    url = reverse("admin:wallet_rechargebatch_confirm", args=[batch.pk])
    assert client.get(url).status_code == 405
    nothing_written()


def test_finance_sees_the_menu_entry_and_the_ledger_button(client, finance):
    client.force_login(finance)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:wallet_rechargebatch_changelist") in index
    ledger = client.get(reverse("admin:wallet_entry_changelist")).content.decode()
    assert 'id="ledger-batch-recharge"' in ledger


# -- large batches: applied by the agent's side task -----------------------------------------


@override_settings(WALLET_BATCH_SYNC_ROWS=2)
def test_a_large_batch_is_queued_and_applied_by_the_agent(finance, alice, bob):
    from wallet.batch import batch_apply_next

    batch = preview(csv_bytes("alice,1,,cash,", "bob,2,,cash,", "alice,3,,cash,x"), finance)
    batch = batch_confirm(batch_id=batch.pk, actor=finance)
    assert batch.status == RechargeBatch.Status.QUEUED
    nothing_written()
    applied = batch_apply_next()
    assert applied.pk == batch.pk and applied.status == RechargeBatch.Status.APPLIED
    assert applied.result["created"] == 3 and Entry.objects.count() == 3
    assert Entry.objects.filter(created_by=finance).count() == 3
    assert batch_apply_next() is None


@override_settings(WALLET_BATCH_SYNC_ROWS=1)
def test_a_queued_batch_with_a_refused_row_goes_back_and_writes_nothing(finance, alice, bob):
    from wallet.batch import batch_apply_next

    batch = preview(csv_bytes("alice,1,,cash,", "bob,2,LATE,cash,"), finance)
    batch_confirm(batch_id=batch.pk, actor=finance)
    wallet_recharge(
        customer_id=alice.pk,
        amount="1",
        created_by=None,
        idempotency_key="by-hand",
        payment_method="cash",
        payment_reference="LATE",
    )
    batch_apply_next()
    batch.refresh_from_db()
    assert batch.status == RechargeBatch.Status.PREVIEWED and "LATE" in batch.result["error"]
    assert Entry.objects.count() == 1


def test_state_changes_need_the_csrf_token(finance, alice):
    from django.test import Client

    batch = preview(csv_bytes("alice,1,,cash,"), finance)
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance)
    url = reverse("admin:wallet_rechargebatch_confirm", args=[batch.pk])
    assert client.post(url).status_code == 403
    upload = io.BytesIO(csv_bytes("alice,2,,cash,"))
    upload.name = "x.csv"
    assert client.post(reverse(UPLOAD), {"file": upload}).status_code == 403
    nothing_written()
    assert RechargeBatch.objects.count() == 1


def test_a_recharger_who_sees_only_their_customers_sees_only_their_batches(client, roles, finance):
    from django.contrib.auth.models import Permission

    mine = make_customer(username="mine", mobile="13900000009")
    manager = StaffFactory(username="am3", role="客户经理")
    manager.user_permissions.add(Permission.objects.get(codename="recharge_account"))
    mine.account_manager = manager
    mine.save()
    theirs = preview(csv_bytes("mine,1,,cash,"), finance)
    own = preview(csv_bytes("mine,2,,cash,"), manager)
    client.force_login(manager)
    page = reverse("admin:wallet_rechargebatch_change", args=[theirs.pk])
    assert client.get(page).status_code == 404  # not found for them
    assert _step(client, theirs, "confirm").status_code == 404
    assert (
        client.get(reverse("admin:wallet_rechargebatch_change", args=[own.pk])).status_code == 200
    )
    nothing_written()
