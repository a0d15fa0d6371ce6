"""Per-key rate limits (flask-limiter): in memory by default, Redis when REGISTRY_REDIS_URL is set."""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter

from registry import config


def _key() -> str:
    principal = getattr(g, "principal", None)
    if principal is not None:
        return f"key:{principal.actor}"
    # Unauthenticated calls are limited per address (they fail auth anyway, but cheaply).
    return f"addr:{request.remote_addr}"


def install(app: Flask, overrides: dict) -> Limiter:
    redis_url = config.get("REDIS_URL", overrides)
    limiter = Limiter(
        key_func=_key,
        app=app,
        # One allowance per key across the whole API (default_limits would give one per endpoint).
        application_limits=[config.get("RATE_LIMIT", overrides)],
        storage_uri=redis_url or "memory://",
        headers_enabled=True,
        strategy="moving-window",
        application_limits_exempt_when=lambda: request.path.startswith("/-/"),
    )
    app.extensions["registry.limiter"] = limiter
    return limiter
