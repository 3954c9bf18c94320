"""A template loader that gives third-party admin templates' inline scripts the CSP nonce.

The Content-Security-Policy allows scripts from this site and inline scripts carrying the
request's nonce — no 'unsafe-inline'. jazzmin's templates have a few short inline scripts (the
colour-mode switch in every page's <head>, the change list's filter settings, the required-field
markers on the password pages). Rather than copying those templates into the project to add
``nonce="…"`` (and falling behind jazzmin's own fixes), this loader adds it when it reads them:
a bare ``<script>`` in a template file of an app named in ``settings.CSP_NONCE_TEMPLATE_APPS``
becomes ``<script nonce="{{ request.csp_nonce }}">``. Only the template source is changed, never
rendered output, so nothing a user typed can ever receive a nonce. Our own templates carry no
inline JavaScript at all (static files under ``<app>/static/``).
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template.loaders import app_directories

BARE_SCRIPT = "<script>"
NONCED_SCRIPT = '<script nonce="{{ request.csp_nonce }}">'


def nonced_template_dirs() -> tuple[str, ...]:
    """The ``templates`` folders of the apps whose inline scripts get the nonce."""
    return tuple(
        str(Path(apps.get_app_config(label).path) / "templates") + "/"
        for label in getattr(settings, "CSP_NONCE_TEMPLATE_APPS", [])
    )


class Loader(app_directories.Loader):
    """Django's app-directories loader, adding the CSP nonce to listed apps' inline scripts."""

    def get_contents(self, origin):
        contents = super().get_contents(origin)
        if origin.name.startswith(nonced_template_dirs()):
            contents = contents.replace(BARE_SCRIPT, NONCED_SCRIPT)
        return contents
