"""The TAXII tests' fixtures, for every module here: ``engine_url`` (tests/web/conftest.py's)
and ``server``, a real `registry serve` per module on each engine (tests/taxii/fixtures.py)."""

from tests.taxii.fixtures import engine_url, server  # noqa: F401  (fixtures: pytest finds them here)
