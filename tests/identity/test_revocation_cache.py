"""The cache of token generations (no database): it never vouches for a revoked token."""

from __future__ import annotations

import uuid

from app.domain.identity.revocation import GenerationCache


def _listening() -> GenerationCache:
    cache = GenerationCache()
    cache.listening()
    return cache


def test_it_vouches_for_nobody_until_it_listens_and_after_it_lost_the_connection() -> None:
    cache, holder = GenerationCache(), f"user:{uuid.uuid4()}"
    cache.learn(holder, 1, cache.epoch)
    assert cache.current(holder) is None
    cache.listening()
    cache.learn(holder, 1, cache.epoch)
    assert cache.current(holder) == 1
    cache.lost()
    assert cache.current(holder) is None
    cache.heard(f"{holder} 2")
    assert cache.current(holder) is None


def test_news_of_a_revocation_is_never_undone_by_a_late_read() -> None:
    cache, holder = _listening(), f"user:{uuid.uuid4()}"
    epoch = cache.epoch  # a request starts reading the generation: 1
    cache.heard(f"{holder} 2")  # meanwhile a revocation commits and is heard
    cache.learn(holder, 1, epoch)  # the slow read finishes with the old value
    assert cache.current(holder) == 2


def test_a_read_started_before_a_reset_is_not_remembered() -> None:
    cache, holder = _listening(), f"user:{uuid.uuid4()}"
    epoch = cache.epoch
    cache.lost()  # notifications may have been missed while the read ran
    cache.listening()
    cache.learn(holder, 1, epoch)
    assert cache.current(holder) is None


def test_a_message_it_cannot_read_makes_it_forget_everything() -> None:
    cache, holder = _listening(), f"user:{uuid.uuid4()}"
    cache.learn(holder, 3, cache.epoch)
    cache.heard("not a revocation")
    assert cache.current(holder) is None


def test_it_stays_within_its_capacity() -> None:
    cache = GenerationCache(capacity=3)
    cache.listening()
    holders = [f"client:{uuid.uuid4()}" for _ in range(4)]
    for holder in holders:
        cache.learn(holder, 1, cache.epoch)
    assert sum(cache.current(h) is not None for h in holders) <= 3
    assert cache.current(holders[-1]) == 1


def test_news_is_per_holder_kind() -> None:
    cache, ident = _listening(), uuid.uuid4()
    cache.learn(f"user:{ident}", 1, cache.epoch)
    cache.heard(f"client:{ident} 5")
    assert cache.current(f"user:{ident}") == 1
