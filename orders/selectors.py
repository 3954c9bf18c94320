"""Reads on orders and agents that pages share."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Agent


def agents_alive() -> QuerySet[Agent]:
    """Agents whose heartbeat is recent and that have not said they stopped."""
    horizon = timezone.now() - timedelta(seconds=settings.AGENT_HEARTBEAT_TIMEOUT)
    return Agent.objects.filter(stopped_at__isnull=True, last_heartbeat_at__gte=horizon)
