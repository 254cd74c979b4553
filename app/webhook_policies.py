"""The webhook policies the settings make, for the API (checking targets) and the worker
(checking them again and delivering)."""

from __future__ import annotations

from datetime import timedelta

from app.config import Settings
from app.domain.webhooks.delivery import DeliveryPolicy
from app.domain.webhooks.targets import Resolver, TargetPolicy, resolve


def target_policy(settings: Settings, resolver: Resolver = resolve) -> TargetPolicy:
    return TargetPolicy(
        require_https=settings.webhook_https_only,
        allowed_hosts=settings.webhook_hosts_allowed,
        resolver=resolver,
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        retry_for=timedelta(seconds=settings.webhook_retry_seconds),
        first_backoff_seconds=settings.webhook_first_backoff_seconds,
        max_backoff_seconds=settings.webhook_max_backoff_seconds,
        pause_after_failures=settings.webhook_pause_after_failures,
    )
