from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic.base import RedirectView

from api.api import api as reseller_api
from core.views import healthz

admin.site.site_header = "订单平台"
admin.site.site_title = "订单平台"
# Not the site's name again: the page title would read "订单平台 | 订单平台".
admin.site.index_title = _("Dashboard")

urlpatterns = [
    # The site's address opens the customers' portal (its login when signed out); staff use
    # /admin/. Not permanent: a later landing page may take the address.
    path("", RedirectView.as_view(pattern_name="portal:dashboard", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("core/favicon.ico"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("fulfilment/", include("orders.urls")),
    path("api/v1/", reseller_api.urls),
]

# Branded pages in the area's look (templates/errors/), never Django's bare ones.
handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.page_not_found"
handler500 = "core.error_views.server_error"
