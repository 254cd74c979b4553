"""The API docs at /docs: Swagger UI served from an installed package, never from a CDN.

FastAPI's own docs page loads Swagger UI from a public CDN and is blank on a machine without
internet, which a back office often is. The package fastapi-offline ships the files of the npm
package swagger-ui-dist unchanged; only those files are used here, not its app factory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS_PATH = "/docs/assets"
SWAGGER_UI_FILES = Path(str(files("fastapi_offline") / "static"))

# Swagger UI would otherwise know validator.swagger.io as its validator; never ask it.
_LOCAL_ONLY = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs, its assets, and the OAuth2 redirect page the "Authorize"
    button needs, all from this server.

    Plain Starlette routes and a mount, as FastAPI's own docs routes are: public, outside the
    OpenAPI contract and outside the route table that app.route_policy checks.
    """
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the docs page needs the OpenAPI schema (app.openapi_url)")
    parameters = {**(app.swagger_ui_parameters or {}), **_LOCAL_ONLY}

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=parameters,
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI_FILES), name="swagger-ui-assets")
    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, oauth2_redirect, include_in_schema=False)
