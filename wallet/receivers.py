from wallet.models import Account


def create_account_for_new_customer(sender, instance, created, raw=False, **kwargs):
    """Open a zero-balance account beside each customer created one at a time."""
    if created and not raw:
        Account.objects.get_or_create(customer=instance)
