"""The customer portal, included at /portal/."""

from django.urls import path

from portal.views import (
    account,
    api_keys,
    auth,
    dashboard,
    notifications,
    orders,
    topups,
    transactions,
)

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("login/", auth.login_view, name="login"),
    path("login/sms/send/", auth.sms_send_view, name="sms_send"),
    path("login/sms/", auth.sms_login_view, name="sms_login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/", auth.password_change_view, name="password_change"),
    path("account/", account.account_view, name="account"),
    path("account/profile/", account.profile_view, name="account_profile"),
    path("account/mobile/send/", account.mobile_send_view, name="account_mobile_send"),
    path("account/mobile/", account.mobile_change_view, name="account_mobile"),
    path("account/sessions/end/", account.sessions_end_view, name="account_sessions_end"),
    path("quote/", dashboard.quote_view, name="quote"),
    path("orders/", orders.order_list_view, name="order_list"),
    path("orders/new/", orders.order_new_view, name="order_new"),
    path("orders/confirm/", orders.order_confirm_view, name="order_confirm"),
    path("orders/export/", orders.order_export_view, name="order_export"),
    path("orders/<str:number>/", orders.order_detail_view, name="order_detail"),
    path("orders/<str:number>/cancel/", orders.order_cancel_view, name="order_cancel"),
    path("transactions/", transactions.transaction_list_view, name="transaction_list"),
    path("topups/", topups.topup_list_view, name="topup_list"),
    path("topups/<int:pk>/proof/", topups.topup_proof_view, name="topup_proof"),
    path("api-keys/", api_keys.api_keys_view, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
    path("api-keys/<int:pk>/ips/", api_keys.api_key_ips_view, name="api_key_ips"),
    path("transactions/export/", transactions.transaction_export_view, name="transaction_export"),
    path("notifications/", notifications.notifications_view, name="notifications"),
    path(
        "notifications/deliveries/<int:pk>/resend/",
        notifications.delivery_resend_view,
        name="delivery_resend",
    ),
]
