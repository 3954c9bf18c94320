"""Static file storage for production."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's manifest storage, tolerant of paths missing from the manifest.

    jazzmin references the folder ``vendor/bootswatch`` (not a file) through ``{% static %}``;
    a strict manifest raises "Missing staticfiles manifest entry" for it with DEBUG=False.
    """

    manifest_strict = False
