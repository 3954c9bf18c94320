"""The wallet's own permissions, by the strings ``user.has_perm`` takes (``Account.Meta``)."""

RECHARGE = "wallet.recharge_account"
DEDUCT = "wallet.deduct_account"
