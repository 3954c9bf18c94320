"""Old agent and backend messages on order events become source strings with parameters.

Before 0003 the agent stored its messages rendered (in the agent's language, zh-hans unless
configured otherwise) and the backends in English, so the timeline showed them in that language
to everybody. The ones that match a known message exactly are rewritten as the source string
and its parameters, so that each viewer reads them in their own language; anything else (staff
reasons, suppliers' own words) stays literal. Only events written by an agent are looked at.
The patterns are copied here on purpose: migrations must not change when the code does.
"""

import re

from django.db import migrations

# (source string as stored from 0003 on, [patterns of the old rendered texts], param types)
SIMULATED_FAILURE = "Simulated failure."
SIMULATED_PARTIAL = "Simulated partial delivery: %(delivered)d of %(quantity)d."
SUPPLIER_REFUSED = "The supplier refused the order: HTTP %(status)s%(detail)s"
GAVE_UP = "Gave up after %(attempts)d attempts. Last error: %(error)s"
SUPPLIER_FAILED = "The supplier could not fulfil the order."
SUPPLIER_ACCEPTED = "The supplier accepted the order (reference %(reference)s)."
BACKEND_ERROR = "Fulfilment backend error, will retry: %(error)s"
SHUTDOWN_RELEASE = "Released: the agent is shutting down."

KNOWN = [
    (SIMULATED_FAILURE, [r"simulated failure"], {}),
    (
        SIMULATED_PARTIAL,
        [r"simulated partial delivery: (?P<delivered>\d+) of (?P<quantity>\d+)"],
        {"delivered": int, "quantity": int},
    ),
    (
        SUPPLIER_REFUSED,
        [r"supplier refused the order: HTTP (?P<status>\d+)(?P<detail>.*)"],
        {"status": int, "detail": str},
    ),
    (
        GAVE_UP,
        [
            r"Gave up after (?P<attempts>\d+) attempts\. Last error: (?P<error>.*)",
            r"重试 (?P<attempts>\d+) 次后放弃。最后一次错误：(?P<error>.*)",
        ],
        {"attempts": int, "error": str},
    ),
    (SUPPLIER_FAILED, [re.escape(SUPPLIER_FAILED), r"供应商无法完成该订单。"], {}),
    (
        SUPPLIER_ACCEPTED,
        [
            r"The supplier accepted the order \(reference (?P<reference>.*)\)\.",
            r"供应商已受理订单（参考号 (?P<reference>.*)）。",
        ],
        {"reference": str},
    ),
    (
        BACKEND_ERROR,
        [
            r"Fulfilment backend error, will retry: (?P<error>.*)",
            r"执行后端出错，将重试：(?P<error>.*)",
        ],
        {"error": str},
    ),
    (SHUTDOWN_RELEASE, [re.escape(SHUTDOWN_RELEASE), r"已释放：执行器正在关闭。"], {}),
]
COMPILED = [
    (source, [re.compile(p, re.DOTALL) for p in patterns], types)
    for source, patterns, types in KNOWN
]
BATCH = 1000


def parse(text: str):
    """(source, params) for a known rendered message, or None."""
    for source, patterns, types in COMPILED:
        for pattern in patterns:
            match = pattern.fullmatch(text)
            if match:
                found = match.groupdict()
                return source, {name: cast(found[name]) for name, cast in types.items()}
    return None


def forwards(apps, schema_editor):
    OrderEvent = apps.get_model("orders", "OrderEvent")
    events = (
        OrderEvent.objects.using(schema_editor.connection.alias)
        .filter(message_params__isnull=True, actor__isnull=True)
        .exclude(agent="")
        .exclude(message="")
        .only("pk", "message")
        .order_by("pk")
    )
    changed = []
    for event in events.iterator(chunk_size=BATCH):
        parsed = parse(event.message)
        if parsed is None:
            continue
        event.message, event.message_params = parsed
        changed.append(event)
        if len(changed) >= BATCH:
            OrderEvent.objects.bulk_update(changed, ["message", "message_params"])
            changed = []
    if changed:
        OrderEvent.objects.bulk_update(changed, ["message", "message_params"])


def backwards(apps, schema_editor):
    """Render them back (in English, the source language) as literal text."""
    OrderEvent = apps.get_model("orders", "OrderEvent")
    events = OrderEvent.objects.using(schema_editor.connection.alias).filter(
        message_params__isnull=False
    )
    changed = []
    for event in events.iterator(chunk_size=BATCH):
        try:
            text = event.message % event.message_params if event.message_params else event.message
        except (KeyError, TypeError, ValueError):
            text = event.message
        event.message, event.message_params = text[:500], None
        changed.append(event)
    OrderEvent.objects.bulk_update(changed, ["message", "message_params"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_event_message_params_agent_process_key")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
