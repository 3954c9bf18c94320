from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def wake_agents(order) -> None:
    """After an order commits, wake an agent for it (a hint only: agents also poll)."""
    from orders.agent.wakeup import wake

    wake([order.number])


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        """Connect the agent wake-up to order placing."""
        from orders.services import order_placed_hooks

        if wake_agents not in order_placed_hooks:
            order_placed_hooks.append(wake_agents)
