"""Where job files live: ``settings.JOBS_STORAGE`` names an entry of ``STORAGES`` (default:
``"default"``, i.e. ``MEDIA_ROOT`` on disk). Job files are private: nothing serves that
storage directly, only ``JobAdmin.download_view`` (owner or superuser)."""

import uuid

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages


def job_storage():
    return storages[getattr(settings, "JOBS_STORAGE", "default")]


def save_job_file(*, owner_id: int, name: str, content) -> str:
    """Store ``content`` (a File or an open binary file) under a unique private name."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[-80:]
    path = f"jobs/{owner_id}/{uuid.uuid4().hex}-{safe}"
    if not isinstance(content, File):
        content = File(content, name=safe)
    return job_storage().save(path, content)


def delete_job_file(name: str) -> None:
    if name:
        job_storage().delete(name)
