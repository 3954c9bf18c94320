"""The agents in the admin: the "run now" action for the order list and the Agents page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import BooleanField, Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from orders.agent.health import agents_alive_cached
from orders.agent.wakeup import orders_run_now
from orders.models import Agent, Order
from orders.selectors import agents_alive

NO_AGENT_ALIVE = _(
    "No agent is running: pending orders wait until one starts (python manage.py run_agent)."
)
WOKEN = _("Asked the agents to run %(count)d order(s) now.")
WAKE_NOT_DELIVERED = _(
    "The wake-up could not be sent (Redis is not configured or not reachable); "
    "the agents will still find the %(count)d order(s) at their next poll."
)
SKIPPED = _("Skipped %(count)d order(s) that are not pending: %(numbers)s.")
NOTHING_TO_RUN = _("None of the selected orders is pending; nothing to run.")
SKIPPED_SHOWN = 10  # order numbers listed in the "skipped" message before "…"


class AgentActionsMixin:
    """For OrderAdmin: the "立即执行" action and a warning on the list when no agent is alive."""

    def has_run_permission(self, request) -> bool:
        """Whether the user may ask the agents to run orders now."""
        return request.user.has_perm("orders.run_order")

    @admin.action(permissions=["run"], description=_("Run now"))
    def run_now(self, request, queryset):
        """Make the selected pending orders due now and wake the agents; say which were skipped."""
        rows = list(queryset.values_list("number", "status"))
        pending = [number for number, status in rows if status == Order.Status.PENDING]
        skipped = [number for number, status in rows if status != Order.Status.PENDING]
        if pending:
            if orders_run_now(order_numbers=pending):
                self.message_user(request, WOKEN % {"count": len(pending)}, messages.SUCCESS)
            else:
                self.message_user(
                    request, WAKE_NOT_DELIVERED % {"count": len(pending)}, messages.WARNING
                )
            if not agents_alive().exists():
                self.message_user(request, NO_AGENT_ALIVE, messages.WARNING)
        else:
            self.message_user(request, NOTHING_TO_RUN, messages.WARNING)
        if skipped:
            shown = ", ".join(skipped[:SKIPPED_SHOWN]) + (
                "…" if len(skipped) > SKIPPED_SHOWN else ""
            )
            self.message_user(
                request, SKIPPED % {"count": len(skipped), "numbers": shown}, messages.INFO
            )

    def changelist_view(self, request, extra_context=None):
        """Warn on the order list when no agent is alive to fulfil the orders."""
        if request.method == "GET" and not agents_alive_cached():
            self.message_user(request, NO_AGENT_ALIVE, messages.WARNING)
        return super().changelist_view(request, extra_context)


class AliveFilter(admin.SimpleListFilter):
    """Alive or not, by the annotation ``AgentAdmin.get_queryset`` adds (agents_alive's rule)."""

    title = _("alive")
    parameter_name = "alive"

    def lookups(self, request, model_admin):
        """Yes or no."""
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        """Agents whose heartbeat is (or is not) recent."""
        if self.value() in ("yes", "no"):
            return queryset.filter(alive=self.value() == "yes")
        return queryset


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """Which agents run where, and whether their heartbeat is recent: read-only."""

    list_display = (
        "name",
        "hostname",
        "pid",
        "last_heartbeat_at",
        "is_alive",
        "orders_in_flight",
        "processed",
        "started_at",
        "stopped_at",
    )
    list_filter = (AliveFilter, "hostname")
    search_fields = ("name", "hostname")
    readonly_fields = list_display
    fields = list_display
    ordering = ("-last_heartbeat_at",)
    show_full_result_count = False

    def get_queryset(self, request):
        """Annotate liveness with the same rule as ``orders.selectors.agents_alive``."""
        horizon = timezone.now() - timedelta(seconds=settings.AGENT_HEARTBEAT_TIMEOUT)
        alive = Q(stopped_at__isnull=True, last_heartbeat_at__gte=horizon)
        return (
            super()
            .get_queryset(request)
            .annotate(
                alive=Case(
                    When(alive, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
            )
        )

    @admin.display(description=_("orders in flight"), ordering="in_flight")
    def orders_in_flight(self, obj) -> str:
        """The count at the last heartbeat, linking to the orders this agent holds now."""
        url = reverse("admin:orders_order_changelist")
        query = urlencode({"status__exact": Order.Status.RUNNING, "lease_owner": obj.name})
        return format_html('<a href="{}?{}">{}</a>', url, query, obj.in_flight)

    @admin.display(description=_("alive"), boolean=True, ordering="alive")
    def is_alive(self, obj) -> bool:
        """Heartbeat within AGENT_HEARTBEAT_TIMEOUT and not stopped."""
        return bool(getattr(obj, "alive", False))

    def changelist_view(self, request, extra_context=None):
        """Say plainly at the top of the page when no agent is alive."""
        if request.method == "GET" and not agents_alive_cached():
            self.message_user(request, NO_AGENT_ALIVE, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request) -> bool:
        """Agents register themselves when they start."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """Heartbeats are written by the agents only."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Keep the record; a stopped agent shows its stop time."""
        return False
