"""All models, imported here so that `Base.metadata` is complete for Alembic."""

from app.db.models.accounting import (
    Account,
    Company,
    DailyBalance,
    FiscalYear,
    JournalEntry,
    JournalLine,
    MonthlyBalance,
    Period,
)
from app.db.models.api import IdempotencyRecord
from app.db.models.audit import AuditEvent
from app.db.models.events import OutboxEvent
from app.db.models.identity import (
    Client,
    LoginThrottle,
    Principal,
    RefreshToken,
    User,
    UserRole,
)
from app.db.models.inventory import Item, Movement, MovementLine, Stock, Warehouse
from app.db.models.orders import Order, OrderLine, SalesChannel
from app.db.models.partners import Partner, PartnerExternalId
from app.db.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookFanOut,
    WebhookLease,
    WebhookSubscription,
)

__all__ = [
    "Account",
    "AuditEvent",
    "Client",
    "Company",
    "DailyBalance",
    "FiscalYear",
    "IdempotencyRecord",
    "Item",
    "JournalEntry",
    "JournalLine",
    "LoginThrottle",
    "MonthlyBalance",
    "Movement",
    "MovementLine",
    "Order",
    "OrderLine",
    "OutboxEvent",
    "Partner",
    "PartnerExternalId",
    "Period",
    "Principal",
    "RefreshToken",
    "SalesChannel",
    "Stock",
    "User",
    "UserRole",
    "Warehouse",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookFanOut",
    "WebhookLease",
    "WebhookSubscription",
]
