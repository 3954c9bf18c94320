"""Machine-facing order endpoints (the supplier's fulfilment callback)."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("callback/", views.fulfilment_callback, name="fulfilment-callback"),
]
