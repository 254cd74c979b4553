"""A shop set up to take orders: a webshop client with a default warehouse, stocked items,
and a customer it knows by its own id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from app.db.models import Item, Warehouse
from tests.factories.identity import auth_headers, bearer, signed_in
from tests.factories.inventory import make_item, make_warehouse, receive

ORDERS = "/api/v1/orders"


@dataclass
class Shop:
    headers: dict[str, str]
    client_id: uuid.UUID
    warehouse: Warehouse
    items: list[Item]
    customer_external_id: str

    def keyed(self) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": uuid.uuid4().hex}

    def order_body(self, *quantities: str, **overrides: Any) -> dict[str, Any]:
        lines = [
            {
                "sku": item.sku,
                "quantity": quantity,
                "unit_price": "10.00",
                "vat_category": item.vat_category,
            }
            for item, quantity in zip(self.items, quantities, strict=False)
        ]
        body: dict[str, Any] = {
            "external_id": f"WS-{uuid.uuid4().hex[:10]}",
            "customer_external_id": self.customer_external_id,
            "lines": lines,
        }
        return body | overrides


async def open_shop(
    app: FastAPI,
    client: httpx.AsyncClient,
    *,
    stock: int = 10,
    warehouse: Warehouse | None = None,
    items: list[Item] | None = None,
) -> Shop:
    """Commits through the app's own sessions, so it serves committed apps as well."""
    async with app.state.db.sessions() as session:
        warehouse = warehouse or await make_warehouse(session)
        if items is None:
            items = [
                await make_item(session, vat_category="standard"),
                await make_item(session, vat_category="reduced"),
                await make_item(session, vat_category="standard"),
            ]
            for item in items:
                await receive(session, item, warehouse, stock)
        await session.commit()
    principal = await signed_in(app, "webshop")
    headers = bearer(app, principal)
    admin = await auth_headers(app, "admin")
    channel = await client.put(
        f"{ORDERS}/channels/{principal.id}",
        json={"default_warehouse_id": str(warehouse.id)},
        headers=admin,
    )
    assert channel.status_code == 204, channel.text
    external_id = f"K-{uuid.uuid4().hex[:10]}"
    customer = await client.put(
        f"/api/v1/partners/by-external-id/{external_id}",
        json={
            "name": "Erika Mustermann",
            "email": "erika@example.com",
            "shipping_address": {
                "street": "Hauptstraße 5",
                "postal_code": "80331",
                "city": "München",
                "country": "DE",
            },
        },
        headers=headers,
    )
    assert customer.status_code == 201, customer.text
    return Shop(headers, principal.id, warehouse, items, external_id)
