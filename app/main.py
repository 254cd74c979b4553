"""The application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import timedelta

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.config import Settings
from app.db.engine import Database
from app.db.migrations import head_revisions
from app.db.notifications import ChannelListener, Subscriber
from app.domain.identity.revocation import CHANNEL as REVOCATION_CHANNEL
from app.domain.identity.revocation import GenerationCache
from app.http.docs import install_docs
from app.http.idempotency import install_idempotency
from app.http.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.http.openapi import install_openapi
from app.http.problems import install_error_handlers
from app.jobs.worker import in_process_worker
from app.logging_setup import configure_logging
from app.routers import (
    accounting,
    admin,
    audit,
    auth,
    events,
    health,
    inventory,
    orders,
    partners,
    webhooks,
)
from app.security.keys import load_signing_key, pseudonym_key
from app.security.tokens import SigningKey, TokenService
from app.supervision import stop_when_orphaned

API_PREFIX = "/api/v1"

DESCRIPTION = """\
An API-first back office: accounting, HR, credit risk, front desk and inventory.

Errors are RFC 9457 problem details (`application/problem+json`). Lists are cursor-paginated.
Create requests honour `Idempotency-Key`; updates honour `If-Match`.
"""


def signing_key_for(settings: Settings) -> SigningKey:
    """The configured token key (RS256 key or HS256 secret), or the kept development key."""
    private_key, secret = settings.jwt_private_key, settings.jwt_secret
    return load_signing_key(
        private_key_pem=private_key.get_secret_value() if private_key else None,
        secret=secret.get_secret_value() if secret else None,
        data_dir=settings.data_dir,
    )


def revocation_listener(db: Database, cache: GenerationCache) -> ChannelListener:
    """Hears every token revocation committed by any process, and keeps `cache` exact."""
    subscriber = Subscriber(
        on_message=cache.heard, on_listening=cache.listening, on_lost=cache.lost
    )
    return ChannelListener(db.engine, REVOCATION_CHANNEL, subscriber)


def _worker_if_wanted(settings: Settings, db: Database) -> AbstractAsyncContextManager[None]:
    """The in-process job worker, when the settings ask for one (`serve --with-worker`)."""
    return in_process_worker(settings, db) if settings.in_process_worker else nullcontext()


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    db = database or Database.from_settings(settings)

    token_generations = GenerationCache()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        listener = revocation_listener(db, token_generations)
        listener.start()
        # Everything allocated at start-up lives forever: keep it out of the GC's full scans.
        gc.collect()
        gc.freeze()
        async with stop_when_orphaned(), _worker_if_wanted(settings, db):
            yield
        await listener.stop()
        await db.dispose()

    app = FastAPI(
        title="backoffice",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # app.http.docs serves /docs without a CDN
        redoc_url=None,
        swagger_ui_parameters={"persistAuthorization": True},
        # A redirect to the slash-less path would be built from the caller's Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.token_generations = token_generations
    app.state.schema_heads = head_revisions()
    signing_key = signing_key_for(settings)
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
    if settings.trusted_proxies:
        # Outermost: the client address is settled before anything reads it (login throttle).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)
    install_idempotency(app)
    # Requests are matched against the routes in this order, one by one: probes (two routes)
    # and the webshop's hot paths (stock, orders, the event feed) first.
    routers = (
        health,
        inventory,
        orders,
        events,
        partners,
        accounting,
        webhooks,
        auth,
        admin,
        audit,
    )
    for router in (module.router for module in routers):
        app.include_router(router)
    install_docs(app)
    install_openapi(app)
    return app
