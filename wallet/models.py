from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallet.exceptions import ENTRY_IMMUTABLE, EntryImmutable

MONEY = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    """A customer's prepaid balance. Changed only by wallet services, never below zero."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="account",
    )
    balance = models.DecimalField(_("balance"), default=0, **MONEY)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        # Named in code through wallet/permissions.py (RECHARGE, DEDUCT).
        permissions = [
            ("recharge_account", _("Can recharge customer balances")),
            ("deduct_account", _("Can deduct customer balances")),
        ]
        # The dashboard: customers below a balance, and the total held (an index-only scan).
        indexes = [models.Index(fields=["balance"], name="account_balance")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="wallet_account_balance_non_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class EntryQuerySet(models.QuerySet):
    """Ledger entries are append-only: bulk update and delete are refused too."""

    def update(self, **kwargs):
        raise EntryImmutable(ENTRY_IMMUTABLE)

    def delete(self):
        raise EntryImmutable(ENTRY_IMMUTABLE)

    update.queryset_only = True
    delete.queryset_only = True


class Entry(models.Model):
    """One immutable ledger line: a signed amount and the balance it left."""

    class Kind(models.TextChoices):
        RECHARGE = "recharge", _("Recharge")
        DEDUCT = "deduct", _("Deduct")
        ORDER_DEBIT = "order_debit", _("Order debit")
        CANCEL_REFUND = "cancel_refund", _("Cancel refund")
        REFUND = "refund", _("Refund")

    class PaymentMethod(models.TextChoices):
        """How the money of a staff recharge (or deduction) actually moved."""

        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    CREDIT_KINDS = (Kind.RECHARGE, Kind.CANCEL_REFUND, Kind.REFUND)
    DEBIT_KINDS = (Kind.DEDUCT, Kind.ORDER_DEBIT)

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    # The order number, not a foreign key: wallet never imports orders (DESIGN.md).
    order_number = models.CharField(_("order number"), max_length=32, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True
    )
    # NULL when none was given: NULLs never collide in the unique index below, on every
    # database (MariaDB has no partial indexes), so only given references must be unique.
    payment_reference = models.CharField(
        _("payment reference"), max_length=64, null=True, blank=True
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    # Hash of what was asked, so a replayed key can be told from a reused one.
    request_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        # Django's internal manager too refuses update() and delete() on entries.
        base_manager_name = "objects"
        permissions = [("export_entry", _("Can export the ledger"))]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["kind", "-created_at"]),
            models.Index(fields=["created_by", "-created_at"]),
            # The dashboard's sums per day and kind, and per account (covering: no row reads).
            models.Index(
                fields=["created_at", "kind", "account", "amount"], name="entry_created_kind_amount"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="wallet_entry_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="wallet_entry_balance_after_non_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["recharge", "cancel_refund", "refund"], amount__gt=0)
                    | Q(kind__in=["deduct", "order_debit"], amount__lt=0)
                ),
                name="wallet_entry_sign_matches_kind",
            ),
            # One bank transfer (Alipay payment, …) is entered once, whoever types it again.
            models.UniqueConstraint(
                fields=["payment_method", "payment_reference"],
                name="wallet_entry_payment_reference_unique",
            ),
            # A reference is never empty and always says which method's reference it is.
            models.CheckConstraint(
                condition=Q(payment_reference__isnull=True)
                | (~Q(payment_reference="") & ~Q(payment_method="")),
                name="wallet_entry_reference_has_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} → {self.balance_after}"

    def save(self, *args, **kwargs):
        """Insert only: an existing entry is never written again."""
        if self.pk is not None and not self._state.adding:
            raise EntryImmutable(ENTRY_IMMUTABLE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Never: a mistake is corrected by a new entry."""
        raise EntryImmutable(ENTRY_IMMUTABLE)


def _proof_path(instance, filename: str) -> str:
    # A random name: the customer's file name never reaches the disk or a URL.
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:8]
    return f"topup-proofs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class TopUpRequest(models.Model):
    """A customer's request to have a transfer they made credited (充值申请); finance decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="topup_requests",
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    # The methods are a setting (WALLET_TOPUP_METHODS), so no choices here: changing the list
    # needs no migration, and old requests keep the code they were made with.
    method = models.CharField(_("payment method"), max_length=20)
    payer = models.CharField(_("payer name or account"), max_length=100)
    reference = models.CharField(_("payment reference"), max_length=64)
    proof = models.FileField(_("proof image"), upload_to=_proof_path, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    entry = models.OneToOneField(
        Entry,
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topup_request",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("top-up request")
        verbose_name_plural = _("top-up requests")
        ordering = ["-created_at", "-id"]
        permissions = [("approve_topuprequest", _("Can approve or reject top-up requests"))]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reference"], name="wallet_topup_reference_once_per_customer"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_topup_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ¥{self.amount}"


class RechargeBatch(models.Model):
    """A file of recharges (批量充值) from upload to result: its rows as checked at preview,
    who uploaded, confirmed, approved or rejected it, and what applying it wrote.

    Changed only by ``wallet.batch`` services, along ``TRANSITIONS``. Each row's ledger entry
    has the key ``batch:<file hash>:<row>``, so the same file applies once however many
    batches hold it.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        QUEUED = "queued", _("Being applied")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    # The one map of allowed status changes (wallet.batch._move applies it).
    # A large batch is QUEUED and applied by the agent process (wallet.batch.batch_apply_next);
    # if a row is refused there it goes back to where it was, with the reason in ``result``.
    TRANSITIONS = {
        Status.PREVIEWED: (
            Status.AWAITING_APPROVAL,
            Status.QUEUED,
            Status.APPLIED,
            Status.REJECTED,
        ),
        Status.AWAITING_APPROVAL: (Status.APPROVED, Status.REJECTED),
        Status.APPROVED: (Status.QUEUED, Status.APPLIED, Status.REJECTED),
        Status.QUEUED: (Status.APPLIED, Status.PREVIEWED, Status.APPROVED),
        Status.APPLIED: (),
        Status.REJECTED: (),
    }

    file_name = models.CharField(_("file name"), max_length=255)
    file_hash = models.CharField(_("file hash (SHA-256)"), max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    # One object per row: what was read, the customer found, the balances at preview, and the
    # errors as codes with parameters (shown in the reader's language).
    rows = models.JSONField(_("rows"), default=list, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rejected by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    # What applying wrote (entries, replays, first and last entry id) or why it failed.
    result = models.JSONField(_("result"), default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("batch recharge")
        verbose_name_plural = _("batch recharges")
        ordering = ["-created_at", "-id"]
        permissions = [("approve_rechargebatch", _("Can approve large batch recharges"))]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0), name="wallet_batch_total_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"
