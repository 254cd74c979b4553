"""The event types clients can mirror, and who may read each.

An owner-restricted type (orders, customers) is visible to integration clients only for the
subjects they own; people with the type's permission, and back-office readers, see all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.identity.principal import Principal


class EventType(StrEnum):
    stock_changed = "stock.changed"
    item_changed = "item.changed"
    partner_changed = "partner.changed"
    order_status_changed = "order.status_changed"


@dataclass(frozen=True, slots=True)
class Readers:
    permissions: frozenset[str]  # any one of them admits the caller
    owned_by_clients: bool = False  # clients see only events naming them as owners


READERS: dict[EventType, Readers] = {
    EventType.stock_changed: Readers(frozenset({"catalog:read", "inventory:read"})),
    EventType.item_changed: Readers(frozenset({"catalog:read", "inventory:read"})),
    EventType.partner_changed: Readers(
        frozenset({"sales:customers:read", "partners:read"}), owned_by_clients=True
    ),
    EventType.order_status_changed: Readers(
        frozenset({"sales:orders:read", "orders:read"}), owned_by_clients=True
    ),
}

# Whoever holds one of these may read the feed at all.
FEED_PERMISSIONS: tuple[str, ...] = tuple(
    sorted({p for readers in READERS.values() for p in readers.permissions})
)


@dataclass(frozen=True, slots=True)
class Visibility:
    all_of: tuple[str, ...]  # types the caller sees every event of
    own_of: tuple[str, ...]  # types the caller sees only its own events of


def visibility(principal: Principal, wanted: frozenset[EventType] | None = None) -> Visibility:
    """Which of the `wanted` types (None: all) the caller sees, wholly or only its own."""
    all_of: list[str] = []
    own_of: list[str] = []
    for event_type, readers in READERS.items():
        if wanted is not None and event_type not in wanted:
            continue
        if not any(principal.has(p) for p in readers.permissions):
            continue
        if readers.owned_by_clients and principal.is_client:
            own_of.append(event_type.value)
        else:
            all_of.append(event_type.value)
    return Visibility(tuple(all_of), tuple(own_of))
