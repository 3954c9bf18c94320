"""Move customers' guardian object permissions from the generic tables to the direct ones.

Before 0002 an account manager's permissions on a customer lived in guardian's generic
tables; guardian now reads the direct tables for customers, so rows left behind would be
ignored. Copy them (skipping customers that no longer exist), then delete the originals.
"""

from django.db import migrations

CHUNK = 5000


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="customers", model="customer").first()
    if content_type is None:  # a fresh database: nothing to move
        return
    Customer = apps.get_model("customers", "Customer")
    pairs = [
        (
            apps.get_model("guardian", "UserObjectPermission"),
            apps.get_model("customers", "CustomerUserObjectPermission"),
            "user_id",
        ),
        (
            apps.get_model("guardian", "GroupObjectPermission"),
            apps.get_model("customers", "CustomerGroupObjectPermission"),
            "group_id",
        ),
    ]
    for generic, direct, owner in pairs:
        rows = generic.objects.filter(content_type=content_type).values_list(
            "pk", owner, "permission_id", "object_pk"
        )
        batch, moved = [], []
        for pk, owner_id, permission_id, object_pk in rows.iterator(chunk_size=CHUNK):
            moved.append(pk)
            if object_pk.isdigit():
                batch.append((owner_id, permission_id, int(object_pk)))
            if len(batch) >= CHUNK:
                _copy(direct, owner, batch, Customer)
        _copy(direct, owner, batch, Customer)
        for start in range(0, len(moved), CHUNK):
            generic.objects.filter(pk__in=moved[start : start + CHUNK]).delete()


def _copy(direct, owner, batch, Customer) -> None:
    existing = set(
        Customer.objects.filter(pk__in=[c for _o, _p, c in batch]).values_list("pk", flat=True)
    )
    direct.objects.bulk_create(
        [
            direct(**{owner: o, "permission_id": p, "content_object_id": c})
            for o, p, c in batch
            if c in existing
        ],
        ignore_conflicts=True,
    )
    batch.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_guardian_direct_object_permissions"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
