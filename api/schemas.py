"""Request and response bodies of /api/v1/ (pydantic, through django-ninja).

Money is a string with two decimals (``"12.50"``), never a JSON number: floats cannot hold most
cent values. Amounts and quantities sent by clients are read by the same strict parsers as the
portal (``wallet.money.parse_amount``, ``orders.pricing.parse_quantity``).
"""

from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

MAX_ID = 2**63 - 1  # a bigint: larger ids cannot exist, and some databases overflow on them
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["12.50"])]
ClientOrderId = Annotated[
    str,
    Field(
        pattern=CLIENT_ORDER_ID_PATTERN,
        min_length=1,
        max_length=64,
        description="Your own id for the order: 1–64 of A-Z a-z 0-9 . _ : - (first a letter "
        "or digit), unique among your orders.",
        examples=["shop-10001"],
    ),
]
Quantity = Annotated[
    StrictInt | StrictStr,
    Field(
        description="A whole number (JSON integer, or a string of ASCII digits).", examples=[100]
    ),
]


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")


class Tier(Schema):
    quantity: int = Field(description="From this quantity on, this tier's price applies.")
    list_price: Money = Field(
        description="The tier's price for `quantity` units, before your level."
    )
    price: Money = Field(description="What `quantity` units cost you, at your level.")


class ServiceOut(Schema):
    id: int
    name: str
    description: str
    unit_name: str
    min_quantity: int
    max_quantity: int
    target_kind: str = Field(
        description="`url`: an http(s) address; `pattern`: text matching `target_pattern`."
    )
    target_pattern: str
    tiers: list[Tier]


class BalanceOut(Schema):
    balance: Money
    currency: str
    level: str
    level_percent: int = Field(description="You pay this percentage of the list price.")


class QuoteIn(Schema):
    service: StrictInt = Field(ge=1, le=MAX_ID, description="A service id from GET /services.")
    quantity: Quantity


class QuoteOut(Schema):
    service: int
    quantity: int
    tier_quantity: int
    unit_price: str
    list_price: Money
    level_percent: int
    amount: Money


class OrderIn(Schema):
    service: StrictInt = Field(ge=1, le=MAX_ID, description="A service id from GET /services.")
    target: StrictStr = Field(
        max_length=500, description="What the service acts on (a URL, an account)."
    )
    quantity: Quantity
    client_order_id: ClientOrderId
    expected_amount: Money | None = Field(
        default=None,
        description="The amount you expect to pay; if the price is now different, nothing is "
        "placed and the answer is 409 `price_changed` with the new `amount`.",
    )


class ServiceRef(Schema):
    id: int
    name: str


class EventOut(Schema):
    at: datetime
    from_status: str
    to_status: str
    message: str


class OrderOut(Schema):
    number: str
    client_order_id: str | None
    service: ServiceRef
    target: str
    quantity: int
    delivered_quantity: int
    amount: Money
    refunded_amount: Money
    status: str = Field(description="pending, running, completed, partial, failed or cancelled.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    events: list[EventOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class EntryOut(Schema):
    id: int
    kind: str = Field(description="recharge, deduct, order_debit, cancel_refund or refund.")
    amount: Money = Field(description="Signed: negative for a debit.")
    balance_after: Money
    order_number: str
    memo: str
    created_at: datetime


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None
