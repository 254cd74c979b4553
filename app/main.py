"""The application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from app import __version__
from app.config import Settings
from app.db.engine import Database
from app.db.migrations import head_revisions
from app.docs import install_docs
from app.errors import install_error_handlers
from app.idempotency import install_idempotency
from app.logging_setup import configure_logging
from app.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.openapi import install_openapi
from app.routers import admin, audit, auth, health
from app.security.keys import load_signing_key, pseudonym_key
from app.security.tokens import TokenService

API_PREFIX = "/api/v1"

DESCRIPTION = """\
An API-first back office: accounting, HR, credit risk, front desk and inventory.

Errors are RFC 9457 problem details (`application/problem+json`). Lists are cursor-paginated.
Create requests honour `Idempotency-Key`; updates honour `If-Match`.
"""


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    db = database or Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything allocated at start-up lives forever: keep it out of the GC's full scans.
        gc.collect()
        gc.freeze()
        yield
        await db.dispose()

    app = FastAPI(
        title="backoffice",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # app.docs serves /docs without a CDN
        redoc_url=None,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.schema_heads = head_revisions()
    signing_key = load_signing_key(settings)
    app.state.pseudonym_key = pseudonym_key(signing_key)
    app.state.tokens = TokenService(
        signing_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=settings.access_token_minutes),
    )
    # Added last = outermost: the request id is set before the size check answers.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    install_idempotency(app)
    for router in (health.router, auth.router, admin.router, audit.router):
        app.include_router(router)
    install_docs(app)
    install_openapi(app)
    return app
