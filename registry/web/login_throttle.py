"""Sign-in throttling for the web page. Failed sign-ins are counted three ways in the rate
limiter's storage (per process, or shared through Redis):

- per client address (``REGISTRY_LOGIN_ADDRESS_LIMIT``): one address trying many usernames is
  refused for a while;
- per username and address (``REGISTRY_LOGIN_LIMIT``): one address guessing one user's password
  is refused for a while;
- per username from anywhere: never refused, only slowed. A sign-in for a username with recent
  failures waits before its password is checked (0.1 s after one failure, doubling with each, at
  most ``REGISTRY_LOGIN_SLOWDOWN_SECONDS``). Refusing here would let anyone with a few addresses
  lock the rightful user out; waiting before the check, whatever the password, means an answer's
  timing never tells a guesser early that it was wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask
from limits import RateLimitItem
from limits.strategies import RateLimiter

from registry.config import Settings
from registry.services.errors import RegistryError

FIRST_DELAY = 0.1  # seconds, after one failure
# A username's failures are counted up to this many per window: beyond it the wait is at its
# longest anyway, and the count must not grow without bound under a long attack.
USER_COUNT_CAP = 64


class Throttled(RegistryError):
    status = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class LoginThrottle:
    strategy: RateLimiter
    pair_limit: RateLimitItem  # per (username, address)
    address_limit: RateLimitItem  # per address
    user_count: RateLimitItem  # counts a username's failures over the pair limit's window; never refuses
    max_delay: float

    def _scopes(self, username: str, client: str | None):
        address = client or "-"
        return ((self.address_limit, ("login-addr", address), "address", "from this address"),
                (self.pair_limit, ("login-pair", username[:64], address), "username-address",
                 "for this username from this address"))

    def check(self, username: str, client: str | None) -> None:
        """Raise Throttled when this address, or this username from this address, has failed
        too often of late."""
        for limit, identity, scope, where in self._scopes(username, client):
            if not self.strategy.test(limit, *identity):
                reset = self.strategy.get_window_stats(limit, *identity).reset_time
                minutes = max(1, int((reset - time.time()) // 60) + 1)
                raise Throttled(
                    f"too many failed sign-ins {where}: try again in {minutes} minute{'s' if minutes > 1 else ''}",
                    details={"retry_after_minutes": minutes, "limit": scope},
                )

    def delay(self, username: str) -> tuple[float, int]:
        """How long a sign-in for this username waits, and its recent failures (from anywhere)."""
        stats = self.strategy.get_window_stats(self.user_count, "login-user", username[:64])
        failures = self.user_count.amount - stats.remaining
        if failures <= 0:
            return 0.0, 0
        return min(self.max_delay, FIRST_DELAY * 2 ** (failures - 1)), failures

    def failed(self, username: str, client: str | None) -> None:
        for limit, identity, _, _ in self._scopes(username, client):
            self.strategy.hit(limit, *identity)
        self.strategy.hit(self.user_count, "login-user", username[:64])


def install(app: Flask, settings: Settings) -> None:
    """Count in the rate limiter's storage (``limits.install`` runs first)."""
    pair = settings.login_limit
    app.extensions["registry.login_throttle"] = LoginThrottle(
        strategy=app.extensions["registry.limiter"],
        pair_limit=pair,
        address_limit=settings.login_address_limit,
        user_count=type(pair)(USER_COUNT_CAP, pair.multiples),
        max_delay=settings.login_slowdown_seconds,
    )


def throttle(app: Flask) -> LoginThrottle:
    return app.extensions["registry.login_throttle"]
