"""Reading the demo fixtures in fixtures/demo/."""

import json
from pathlib import Path

from django.conf import settings


def read_fixture(name: str):
    """The parsed JSON of fixtures/demo/<name>.json."""
    path = Path(settings.BASE_DIR) / "fixtures" / "demo" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))
