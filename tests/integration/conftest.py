"""The ``registry`` command through Click's runner on the test's database (either engine)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from registry.cli import main


@pytest.fixture
def cli(db, tmp_path, monkeypatch):
    """``cli(*args, code=0)``: run ``registry ARGS`` on the test's database, its instance folder
    tmp_path/instance, assert the exit status and answer the result. Settings set with monkeypatch
    before a call apply to it (each command loads them)."""
    monkeypatch.setenv("REGISTRY_DATABASE_URL", db.url)
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    def invoke(*args, code=0):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke
