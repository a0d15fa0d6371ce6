"""orjson for responses: a 10,000-value batch answer serialises many times faster than with the
standard library (docs/performance.md)."""

from __future__ import annotations

import orjson
from flask import Flask
from flask.json.provider import JSONProvider


class OrjsonProvider(JSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def install(app: Flask) -> None:
    app.json = OrjsonProvider(app)
