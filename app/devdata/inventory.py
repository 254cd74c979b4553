"""A demo catalogue: a dozen items a small German trading company sells, stocked in two
warehouses, and the demo webshop shipping from the main one.

Items and warehouses have fixed ids, so loading is idempotent: what exists is left as it is,
and stock is received only together with a new item.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import ean

from app.db.repositories import identity as identity_queries
from app.db.repositories import inventory as queries
from app.devdata.identity import DEMO_CLIENTS
from app.domain.actor import Actor
from app.domain.inventory import catalog, movements
from app.domain.inventory.rules import MovementKind
from app.domain.orders.service import set_default_warehouse

DEMO_ACTOR = Actor("system:demo-data")
_IDS = uuid.UUID("0b7e4c1a-5f2d-4a8e-9c3b-7d6e5f4a3b2c")

DEMO_WAREHOUSES = (
    catalog.WarehouseFields(
        code="HAUPT", name="Hauptlager Köln", street="Industriestraße 8",
        postal_code="50735", city="Köln", country="DE",
    ),
    catalog.WarehouseFields(
        code="SUED", name="Außenlager München", street="Frankfurter Ring 105",
        postal_code="80807", city="München", country="DE",
    ),
)  # fmt: skip

# sku, name, unit, GTIN without its check digit, net price, VAT, reorder point, stock per warehouse
_ITEMS = (
    ("KAF-1000", "Espressobohnen 1 kg", "KGM", "400638133393", "18.90", "reduced", "20", 120, 40),
    ("TEE-0250", "Grüner Tee lose 250 g", "C62", "401234567890", "6.40", "reduced", "10", 60, 0),
    ("TAS-0300", "Porzellantasse 0,3 l", "C62", "400555666666", "4.90", "standard", "24", 200, 80),
    ("MUE-1100", "Kaffeemühle 150 W", "C62", "401120029690", "49.00", "standard", "5", 12, 3),
    ("FIL-0102", "Filtertüten Gr. 4", "XPK", "400041702500", "2.10", "standard", "50", 300, 150),
    ("ZUC-1000", "Rohrzucker 1 kg", "KGM", "438886015341", "2.80", "reduced", "30", 80, 20),
    ("SIR-0700", "Karamellsirup 0,7 l", "XBO", "426014862000", "7.50", "reduced", "12", 36, 0),
    ("BEC-0400", "To-go-Becher 0,4 l (50)", "XPK", "400990052606", "5.60", "standard", "40", 0, 90),
)  # fmt: skip


def demo_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_IDS, key)


async def load_demo_inventory(session: AsyncSession) -> list[str]:
    """Creates the missing warehouses and items (receiving their opening stock); returns the
    SKUs and warehouse codes created."""
    created: list[str] = []
    warehouse_ids = []
    for warehouse in DEMO_WAREHOUSES:
        assert warehouse.code is not None
        warehouse_id = demo_id(warehouse.code)
        warehouse_ids.append(warehouse_id)
        if await queries.load_warehouse(session, warehouse_id) is None:
            await catalog.create_warehouse(session, DEMO_ACTOR, warehouse, warehouse_id)
            created.append(warehouse.code)
    for sku, name, unit, gtin, price, vat, reorder, *stock in _ITEMS:
        item_id = demo_id(sku)
        if await queries.load_item(session, item_id) is not None:
            continue
        fields = catalog.ItemFields(
            sku=sku, name=name, unit_code=unit, gtin=gtin + ean.calc_check_digit(gtin),
            net_price=Decimal(price),
            currency="EUR", vat_category=vat, reorder_point=Decimal(reorder),
            safety_stock=Decimal(2),
        )  # fmt: skip
        await catalog.create_item(session, DEMO_ACTOR, fields, item_id)
        for warehouse_id, quantity in zip(warehouse_ids, stock, strict=True):
            if quantity:
                receipt = movements.MovementRequest(
                    MovementKind.receipt, item_id, warehouse_id, quantity=Decimal(quantity),
                    reference="Eröffnungsbestand",
                )  # fmt: skip
                await movements.book_movement(session, DEMO_ACTOR, receipt)
        created.append(sku)
    webshop = await identity_queries.client_id_by_name(session, DEMO_CLIENTS["webshop"])
    if webshop is not None and created:
        await set_default_warehouse(session, DEMO_ACTOR, webshop, warehouse_ids[0])
    return created
