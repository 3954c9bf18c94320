from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = _("Wallet")

    def ready(self):
        """Every new customer gets its account (customers may not import wallet: DESIGN.md)."""
        from customers.models import Customer
        from wallet.receivers import create_account_for_new_customer

        post_save.connect(
            create_account_for_new_customer, sender=Customer, dispatch_uid="wallet_account"
        )
