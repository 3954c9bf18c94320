from django.contrib import admin
from django.urls import include, path

from core.views import healthz

admin.site.site_header = "订单平台"
admin.site.site_title = "订单平台"
admin.site.index_title = "订单平台"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("fulfilment/", include("orders.urls")),
]
