"""Per-key rate limits: in memory by default, Redis when REGISTRY_REDIS_URL is set.

The storage and the moving-window strategy are those of ``limits``, the library under
flask-limiter; the registry's one limit (each key's allowance across the whole API) is applied
by the two small hooks below. flask-limiter's own per-request machinery (per-route, per-blueprint
and decorator limits, none of which the registry has) cost a large share of a single lookup
request (docs/performance.md).
"""

from __future__ import annotations

import time

from flask import Flask, g, request
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests

from registry.config import Settings


def _key() -> str:
    principal = getattr(g, "principal", None)
    if principal is not None:
        return f"key:{principal.actor}"
    # Unauthenticated calls are limited per address (they fail auth anyway, but cheaply).
    return f"addr:{request.remote_addr}"


def install(app: Flask, settings: Settings) -> RateLimiter:
    limit = settings.rate_limit
    strategy = MovingWindowRateLimiter(storage_from_string(settings.redis_url or "memory://"))

    @app.before_request
    def _check_limit() -> None:
        if request.path.startswith("/-/"):  # operators' endpoints are never limited
            return
        key = g.rate_limit_key = _key()
        if not strategy.hit(limit, key):
            raise TooManyRequests(description=str(limit))

    @app.after_request
    def _limit_headers(response):
        key = g.pop("rate_limit_key", None)
        if key is None:
            return response
        stats = strategy.get_window_stats(limit, key)
        reset = int(stats.reset_time)
        response.headers["X-RateLimit-Limit"] = str(limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(stats.remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset - int(time.time())))
        return response

    app.extensions["registry.limiter"] = strategy  # the sign-in throttle counts in it too
    return strategy
