"""Settings are parsed once, at start, into typed values: a bad REGISTRY_* value stops the app
and every command at once with a message naming the variable and what it expects
(docs/configuration.md)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry import config
from registry.cli import main
from registry.web.app import create_app

# One bad value for each kind of setting: whole number, number, choice, rate, half-life map,
# region, whole number that may be 0, bounded number.
BAD = [
    ("MAX_BATCH", "lots", "whole number"),
    ("SESSION_HOURS", "long", "number of hours"),
    ("COOKIE_SECURE", "sometimes", "auto, true, false"),
    ("RATE_LIMIT", "often", "rate"),
    ("HALF_LIFES", "ipv4=a month", "kind=days"),
    ("HALF_LIFES", "ipv5=30", "known kinds"),
    ("HALF_LIFES", "url=0", "days above 0"),
    ("DEFAULT_REGION", "Thailand", "two-letter region"),
    ("SQLITE_MMAP_MB", "-1", "whole number of MiB"),
    ("LOGIN_SLOWDOWN_SECONDS", "61", "from 0 to 60"),
    ("AUDIT_FLUSH_SECONDS", "nan", "seconds above 0"),
]


def test_every_setting_is_a_typed_field():
    assert [f.name for f in fields(config.Settings)] == [s.name.lower() for s in config.SETTINGS]


def test_defaults_parse_to_their_types(monkeypatch):
    for s in config.SETTINGS:
        monkeypatch.delenv(f"REGISTRY_{s.name}", raising=False)
    settings = config.load()
    assert settings.max_batch == 10_000 and settings.web_graceful_timeout == 10 and settings.sqlite_mmap_mb == 2048
    assert settings.session_hours == 8.0 and settings.audit_flush_seconds == 0.2
    assert settings.half_lifes["url"] == 60.0 and settings.default_region == "TH"
    assert (settings.rate_limit.amount, settings.login_limit.amount) == (6000, 10)
    assert settings.cookie_secure == "auto" and not settings.development
    assert settings.instance_path == Path("instance").resolve()
    assert settings.database_url == f"sqlite:///{Path('instance').resolve() / 'registry.db'}"


def test_overrides_come_before_the_environment(monkeypatch):
    monkeypatch.setenv("REGISTRY_MAX_BATCH", "50")
    assert config.load().max_batch == 50
    assert config.load({"MAX_BATCH": "7"}).max_batch == 7


def test_the_secret_and_the_database_url_stay_out_of_the_repr():
    text = repr(config.load({"SECRET_KEY": "very-secret", "DATABASE_URL": "postgresql://u:pw@h/db"}))
    assert "very-secret" not in text and "pw@" not in text


@pytest.mark.parametrize(("name", "value", "expects"), BAD)
def test_a_bad_value_names_the_variable_and_what_it_expects(name, value, expects):
    with pytest.raises(config.SettingError) as caught:
        config.load({name: value})
    assert str(caught.value).startswith(f"REGISTRY_{name} must be ") and expects in str(caught.value)
    assert repr(value) in str(caught.value)


def test_an_unknown_setting_is_refused():
    with pytest.raises(config.SettingError, match="REGISTRY_MAX_BACTH"):
        config.load({"MAX_BACTH": "10"})


@pytest.mark.parametrize(("name", "value", "expects"), BAD)
def test_a_bad_value_stops_create_app(tmp_path, name, value, expects):
    with pytest.raises(config.SettingError, match=f"REGISTRY_{name}"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "SECRET_KEY": "s" * 40, name: value})
    assert not (tmp_path / "r.db").exists()  # stopped before it opened anything


@pytest.mark.parametrize(("name", "value", "expects"), BAD)
@pytest.mark.parametrize("command", [["org", "list"], ["lookup", "example.com"], ["init"]])
def test_a_bad_value_stops_every_command(tmp_path, monkeypatch, name, value, expects, command):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv(f"REGISTRY_{name}", value)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert f"REGISTRY_{name} must be" in result.output and expects in result.output
    assert not (tmp_path / "cli.db").exists()


def test_the_app_reads_the_settings_it_was_made_with(tmp_path, monkeypatch):
    settings = config.load({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "SECRET_KEY": "s" * 40,
                            "MAX_BATCH": "3", "AUDIT_FLUSH_SECONDS": "60"})
    app = create_app(settings)
    try:
        monkeypatch.setenv("REGISTRY_MAX_BATCH", "not read any more")
        assert app.config["REGISTRY"] is settings
        with app.app_context():
            from registry.web.api import _max_batch

            assert _max_batch() == 3
    finally:
        app.extensions["registry.audit"].close()
        app.extensions["registry.db"].dispose()
