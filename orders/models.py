from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}


class Service(models.Model):
    """Something customers buy by quantity, priced by tiers, fulfilled by a backend."""

    class TargetKind(models.TextChoices):
        URL = "url", _("URL")
        PATTERN = "pattern", _("Text matching a pattern")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    unit_name = models.CharField(_("unit name"), max_length=20, default="次")
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    max_quantity = models.PositiveIntegerField(_("maximum quantity"), default=1_000_000)
    target_kind = models.CharField(
        _("target validation"), max_length=16, choices=TargetKind.choices, default=TargetKind.URL
    )
    target_pattern = models.CharField(
        _("target pattern"),
        max_length=200,
        blank=True,
        help_text=_("A regular expression the whole target must match (pattern validation)."),
    )
    backend = models.CharField(
        _("fulfilment backend"),
        max_length=50,
        default="simulated",
        help_text=_("A name from settings.FULFILMENT_BACKENDS."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1) & Q(max_quantity__gte=models.F("min_quantity")),
                name="orders_service_quantity_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PriceTier(models.Model):
    """Price for a quantity (价格策略): orders of at least this quantity use its unit price."""

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="tiers"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    price = models.DecimalField(_("price"), **MONEY)

    class Meta:
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        ordering = ["service", "quantity"]
        constraints = [
            models.UniqueConstraint(fields=["service", "quantity"], name="orders_tier_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_tier_quantity_pos"),
            models.CheckConstraint(condition=Q(price__gt=0), name="orders_tier_price_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} → {self.price}"


class Order(models.Model):
    """A customer's paid request for a quantity of a service; the agent's queue row."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        PARTIAL = "partial", _("Partially completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    TERMINAL = (Status.COMPLETED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)

    # Every status change an order may make; ``orders.services.order_transition`` (the one
    # writer of ``status``) refuses anything else. running → running is an agent taking over a
    # dead agent's lease, or the supplier accepting the order (held by no agent until it answers);
    # pending → failed is an order that used up its attempts before it could run again.
    TRANSITIONS = {
        Status.PENDING: frozenset({Status.RUNNING, Status.CANCELLED, Status.FAILED}),
        Status.RUNNING: frozenset(
            {Status.RUNNING, Status.COMPLETED, Status.PARTIAL, Status.FAILED, Status.PENDING}
        ),
        Status.COMPLETED: frozenset(),
        Status.PARTIAL: frozenset(),
        Status.FAILED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    number = models.CharField(_("order number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="orders"
    )
    target = models.CharField(_("target"), max_length=500, db_index=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=6)
    list_price = models.DecimalField(_("list price"), **MONEY)
    level_percent = models.PositiveSmallIntegerField(_("level percent"))
    amount = models.DecimalField(_("amount charged"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    delivered_quantity = models.PositiveIntegerField(_("delivered quantity"), default=0)
    baseline_count = models.BigIntegerField(_("baseline count"), null=True, blank=True)
    supplier_reference = models.CharField(_("supplier reference"), max_length=100, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    lease_owner = models.CharField(_("agent"), max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    # The order form's key: a double submit finds the first order instead of placing another.
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("cancel_order", _("Can cancel pending orders")),
            ("place_order", _("Can place orders for customers")),
            ("run_order", _("Can ask the agents to run orders now")),
            ("export_order", _("Can export orders")),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_created"),
            models.Index(fields=["status", "-created_at"], name="order_status_created"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_created"),
            # A customer's orders by status (mobile/username search + status filter, portal).
            models.Index(
                fields=["customer", "status", "-created_at"], name="order_customer_status_created"
            ),
            models.Index(fields=["service", "-created_at"], name="order_service_created"),
            models.Index(fields=["amount", "-created_at"], name="order_amount_created"),
            # The admin list's status + service + date range (+ amount) filters: the capped
            # count reads this index alone (amount checked in it), at any table size.
            models.Index(
                fields=["status", "service", "-created_at", "amount"],
                name="order_status_service_created",
            ),
            # The agent's queue: due pending orders and expired leases.
            models.Index(fields=["status", "lease_expires_at"], name="order_queue"),
            # The dashboard: orders finished per day and status (covering, customer for scoping).
            models.Index(fields=["finished_at", "status", "customer"], name="order_finished"),
            # The dashboard of an account manager: their customers' orders finished per day.
            models.Index(
                fields=["customer", "finished_at", "status"], name="order_customer_finished"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_order_quantity_pos"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="orders_order_amount_gte0"),
            models.CheckConstraint(
                condition=Q(delivered_quantity__lte=models.F("quantity")),
                name="orders_order_delivered_lte_quantity",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @classmethod
    def can_transition(cls, from_status: str, to_status: str) -> bool:
        """Whether the table allows an order in ``from_status`` to move to ``to_status``."""
        return to_status in cls.TRANSITIONS.get(from_status, ())


def render_message(message: str, params: dict | None, *, translate: bool = True) -> str:
    """An event or result message as text: ``params`` set means ``message`` is a source string.

    Agents and backends store ``gettext_noop`` source strings with their parameters, so each
    viewer reads them in their own language; ``params`` of None is literal text (a cancel
    reason, a supplier's own words, events written before messages were stored this way).
    """
    if params is None:
        return message
    template = gettext(message) if translate and message else message
    try:
        return template % params if params else template
    except (KeyError, TypeError, ValueError):  # a catalogue or parameter mismatch: still readable
        return message


class OrderEvent(models.Model):
    """One status change of an order: from, to, who or which agent, when, why."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(
        _("from"), max_length=16, choices=Order.Status.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=Order.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    agent = models.CharField(_("agent"), max_length=100, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    # Set: ``message`` is a gettext_noop source string shown translated with these parameters.
    message_params = models.JSONField(_("message parameters"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} → {self.to_status}"

    @property
    def display_message(self) -> str:
        """The message in the viewer's (active) language."""
        return render_message(self.message, self.message_params)


class Agent(models.Model):
    """A running (or recently running) fulfilment agent and its heartbeat."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    # "<boot id>/<pid namespace>|<pid>|<start time in clock ticks>" (Linux /proc), so a
    # restart on the same host can tell a dead holder (or a reused pid) from a live one.
    process_key = models.CharField(_("process identity"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), default=timezone.now)
    in_flight = models.PositiveIntegerField(_("orders in flight"), default=0)
    processed = models.PositiveIntegerField(_("orders finished"), default=0)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["-last_heartbeat_at"]

    def __str__(self) -> str:
        return self.name
