"""The permission strings of staff money movements, named once.

Everything that checks or grants 充值/扣款 refers to these constants, so moving the
permissions onto a wallet model changes only this file (and a data migration).
"""

RECHARGE = "customers.recharge_balance"
DEDUCT = "customers.deduct_balance"
