"""Pluggable fulfilment backends, chosen per service by name from settings.FULFILMENT_BACKENDS.

In the style of Django's EMAIL_BACKEND / CACHES::

    FULFILMENT_BACKENDS = {
        "simulated": {"BACKEND": "orders.fulfilment.simulated.SimulatedBackend", "OPTIONS": {...}},
        "acme": {"BACKEND": "orders.fulfilment.webhook.WebhookBackend", "OPTIONS": {...}},
    }

``get_backend(name)`` returns a configured instance. See ``base.py`` for the interface.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from orders.fulfilment.base import BaseBackend, FulfilmentResult, Outcome

__all__ = ["BaseBackend", "FulfilmentResult", "Outcome", "backend_names", "get_backend"]


def backend_names() -> list[str]:
    """The backend names a Service may choose from."""
    return list(settings.FULFILMENT_BACKENDS)


def get_backend(name: str) -> BaseBackend:
    """A backend instance for the configured name (a new instance per call)."""
    try:
        config = settings.FULFILMENT_BACKENDS[name]
    except KeyError as exc:
        raise ImproperlyConfigured(f"Unknown fulfilment backend {name!r}") from exc
    backend_class = import_string(config["BACKEND"])
    return backend_class(name=name, **config.get("OPTIONS", {}))
