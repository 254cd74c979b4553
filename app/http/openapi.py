"""The contract: FastAPI's schema plus the error responses each route implies.

Statuses that follow from how a route is declared are added here, so no route can forget them:
401/403 from its permission requirement, 400 (unparsable) and 413 from a body, 422 from
parameters, 400/409 from Idempotency-Key, 503 from using the database. All error bodies are
`application/problem+json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext
from pydantic.json_schema import models_json_schema

from app.http.dependencies import OAUTH2_SCHEME, OAUTH2_SCHEME_NAME
from app.http.problems import PROBLEM_MEDIA_TYPE
from app.http.route_policy import api_routes, has_parameters, is_idempotent, permission_requirements
from app.http.routing import DatabaseRoute
from app.schemas.problem import Problem, ValidationProblem

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _problem(status: str, description: str) -> dict[str, Any]:
    name = "ValidationProblem" if status == "422" else "Problem"
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}


def _implied_statuses(route: RouteContext) -> dict[str, str]:
    implied: dict[str, str] = {}
    requirements = permission_requirements(route)
    if requirements:
        implied["401"] = "Missing, invalid or expired access token"
        if any(r.permissions for r in requirements):
            implied["403"] = "The caller lacks the permission this operation needs"
    bad_request: list[str] = []
    if route.body_field is not None:
        bad_request.append("The body cannot be parsed (for example, it is not UTF-8)")
        implied["413"] = "The request body is larger than the configured limit"
    if has_parameters(route):
        implied["422"] = "Invalid parameters or body"
    if is_idempotent(route):
        bad_request.append("Idempotency-Key missing (integration clients) or malformed")
        implied["409"] = "A request with the same Idempotency-Key is still in flight"
    if bad_request:
        implied["400"] = "; ".join(bad_request)
    if isinstance(route.original_route, DatabaseRoute):
        implied["503"] = "The database is unavailable; retry after Retry-After seconds"
    return implied


def _absent_not_null(operation: dict[str, Any]) -> None:
    """An optional parameter is left out, never sent as null: drop `null` from its schema.

    FastAPI documents `str | None = None` as `anyOf: [string, null]`; for a query or header
    parameter that would promise that the text "null" is accepted.
    """
    for parameter in operation.get("parameters", ()):
        schema: dict[str, Any] = parameter.get("schema", {})
        branches = schema.get("anyOf")
        if not isinstance(branches, list):
            continue
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1 and len(branches) == 2:
            del schema["anyOf"]
            parameter["schema"] = {**kept[0], **schema}


def _declare_security(operation: dict[str, Any], route: RouteContext) -> None:
    """Bearer tokens for every route that requires a permission or a sign-in, placed right
    after `operationId` as FastAPI places a security dependency's."""
    if not permission_requirements(route) or "security" in operation:
        return
    items = list(operation.items())
    at = next((i + 1 for i, (key, _) in enumerate(items) if key == "operationId"), len(items))
    items.insert(at, ("security", [{OAUTH2_SCHEME_NAME: []}]))
    operation.clear()
    operation.update(items)


def _complete_responses(operation: dict[str, Any], route: RouteContext) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, description in _implied_statuses(route).items():
        responses.setdefault(status, _problem(status, description))
    for status, response in responses.items():
        if status[0] in "45" and "content" in response:
            media: list[dict[str, Any]] = list(response["content"].values())
            schema = media[0].get("schema") if media else None
            if status == "422" or "HTTPValidationError" in json.dumps(schema):
                schema = {"$ref": "#/components/schemas/ValidationProblem"}
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": schema}}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    scheme = OAUTH2_SCHEME.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    schema["components"].setdefault("securitySchemes", {})[OAUTH2_SCHEME_NAME] = scheme
    _, problem_schemas = models_json_schema(
        [(Problem, "validation"), (ValidationProblem, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    for name, definition in problem_schemas["$defs"].items():
        components.setdefault(name, definition)
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is not None:
                _absent_not_null(operation)
                _declare_security(operation, route)
                _complete_responses(operation, route)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def render_contract(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
