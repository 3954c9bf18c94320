"""The demo superuser."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from demo.fixture import read_fixture


def load(command) -> list[str]:
    """Create the superuser once; never reset a password someone changed since."""
    spec = read_fixture("superuser")
    User = get_user_model()
    if not User.objects.filter(username=spec["username"]).exists():
        User.objects.create_superuser(
            username=spec["username"], email=spec.get("email", ""), password=spec["password"]
        )
    return [
        _("Superuser: http://127.0.0.1:8000/admin/  %(u)s / %(p)s")
        % {"u": spec["username"], "p": spec["password"]}
    ]
