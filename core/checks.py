"""System checks for what would make every page fail once deployed."""

from django.core import checks

from core.health import check_static


@checks.register(checks.Tags.staticfiles, deploy=True)
def static_manifest_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``check --deploy``: the static storage can name a file (collectstatic has run)."""
    state = check_static()["static"]
    if state == "ok":
        return []
    return [
        checks.Error(
            state.removeprefix("error: "),
            hint="Run `manage.py collectstatic` before serving under these settings.",
            id="core.E001",
        )
    ]
