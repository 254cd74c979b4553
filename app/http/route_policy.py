"""What a route declares in its dependencies: used by the contract and the route-table tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from app.http.dependencies import PermissionRequirement, idempotent

# Routes anyone may call, without a token.
PUBLIC_OPERATIONS = frozenset({"health_get_liveness", "health_get_readiness", "auth_create_token"})


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route as served: full path, and router-level dependencies merged in."""
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def permission_requirements(route: RouteContext | APIRoute) -> list[PermissionRequirement]:
    """Every PermissionRequirement in the route's dependency tree (the route class runs them
    first; the contract and the route-table tests read them)."""
    return [c for c in _calls(route.dependant) if isinstance(c, PermissionRequirement)]


def is_idempotent(route: RouteContext) -> bool:
    return any(c is idempotent for c in _calls(route.dependant))


def has_parameters(route: RouteContext) -> bool:
    d: Dependant = route.dependant
    flat = [d, *_flatten(d)]
    return any(x.path_params or x.query_params or x.header_params or x.body_params for x in flat)


def _flatten(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _flatten(sub)
