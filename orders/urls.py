"""Machine-facing order endpoints (the supplier's fulfilment callback)."""

app_name = "orders"

urlpatterns: list = []
