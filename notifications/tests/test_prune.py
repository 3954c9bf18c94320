"""Retention: finished events older than WEBHOOKS_RETENTION_DAYS go, with their deliveries and
attempts; pending ones and recent ones stay, whatever their age."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, OutboxEvent
from notifications.services import event_record, events_prune

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def event(customer, *, status, age_days, attempts=0):
    recorded = event_record(customer_id=customer.pk, type="balance.low", payload={"x": 1})
    created = timezone.now() - timedelta(days=age_days)
    Delivery.objects.filter(event=recorded).update(status=status, created_at=created)
    OutboxEvent.objects.filter(pk=recorded.pk).update(created_at=created)
    delivery = Delivery.objects.get(event=recorded)
    for number in range(1, attempts + 1):
        DeliveryAttempt.objects.create(delivery=delivery, number=number, url="https://x.test/")
    return recorded.event_id


def test_prunes_only_finished_events_past_retention(hooked_customer, settings):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    old_delivered = event(hooked_customer, status=Status.DELIVERED, age_days=31, attempts=2)
    old_failed = event(hooked_customer, status=Status.FAILED, age_days=40, attempts=7)
    old_pending = event(hooked_customer, status=Status.PENDING, age_days=45)
    recent = event(hooked_customer, status=Status.DELIVERED, age_days=29, attempts=1)

    assert events_prune() == 2
    kept = set(OutboxEvent.objects.values_list("event_id", flat=True))
    assert kept == {old_pending, recent}
    assert not kept & {old_delivered, old_failed}
    assert Delivery.objects.count() == 2
    assert DeliveryAttempt.objects.count() == 1  # the recent event's one
    assert events_prune() == 0


def test_prunes_in_chunks(hooked_customer, settings, monkeypatch):
    monkeypatch.setattr("notifications.services.PRUNE_CHUNK", 3)
    settings.WEBHOOKS_RETENTION_DAYS = 7
    for _ in range(8):
        event(hooked_customer, status=Status.DELIVERED, age_days=8)
    assert events_prune() == 8
    assert not OutboxEvent.objects.exists()


def test_zero_days_keeps_everything(hooked_customer, settings):
    settings.WEBHOOKS_RETENTION_DAYS = 0
    event(hooked_customer, status=Status.DELIVERED, age_days=400)
    assert events_prune() == 0
    assert OutboxEvent.objects.count() == 1


def test_the_command_sends_then_prunes(hooked_customer, settings, capsys):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    event(hooked_customer, status=Status.FAILED, age_days=90)
    call_command("deliver_webhooks")
    assert "已删除超过保留期的已结束事件：1 个。" in capsys.readouterr().out
    assert not OutboxEvent.objects.exists()
