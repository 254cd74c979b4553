"""The inventory API: the catalogue, the stock ledger and stock reads."""

from fastapi import APIRouter

from app.routers.inventory import items, movements, stock, warehouses

router = APIRouter()
for part in (items.router, warehouses.router, movements.router, stock.router):
    router.include_router(part)
