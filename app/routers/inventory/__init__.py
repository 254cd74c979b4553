"""The inventory API: the catalogue, the stock ledger and stock reads."""

from fastapi import APIRouter

from app.routers.inventory import items, movements, stock, warehouses

router = APIRouter()
# Stock reads first: the webshop polls them (routes are matched in order).
for part in (stock.router, items.router, warehouses.router, movements.router):
    router.include_router(part)
