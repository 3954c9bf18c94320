"""The customer portal."""

app_name = "portal"

urlpatterns: list = []
