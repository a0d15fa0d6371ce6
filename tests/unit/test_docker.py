"""The Dockerfile and docker-compose.yml, checked without a Docker engine (none runs where the
tests run): the instructions the image depends on, and a compose file that parses with both
registry services and PostgreSQL. The image itself is not built here (docs/deployment.md says so)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        name, _, args = text.partition(" ")
        out.append((name.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def _one(name: str) -> str:
    found = [args for instruction, args in instructions() if instruction == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def _env() -> dict[str, str]:
    env = {}
    for instruction, args in instructions():
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(args))
    return env


def test_base_image_and_install():
    assert instructions()[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(args for instruction, args in instructions() if instruction == "RUN")
    assert "pip install '.[postgres]'" in runs  # psycopg 3 for REGISTRY_DATABASE_URL=postgresql://…
    for instruction, args in instructions():
        if instruction == "COPY":
            *sources, _target = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the project"


def test_runs_as_a_user_it_creates_not_root():
    user = _one("USER")
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    names = [instruction for instruction, _ in instructions()]
    # `useradd [options] NAME`: the user USER names is made before USER switches to it.
    created = [i for i, (instruction, args) in enumerate(instructions()) if instruction == "RUN"
               for match in [re.search(r"useradd [^&]*?(\S+)\s*(?:&&|$)", args)] if match and match.group(1) == user]
    assert created and created[0] < names.index("USER")


def test_the_instance_folder_is_the_volume():
    instance = _env()["REGISTRY_INSTANCE_PATH"]
    assert json.loads(_one("VOLUME")) == [instance]
    run = next(args for instruction, args in instructions() if instruction == "RUN" and "useradd" in args)
    assert f"chown {_one('USER')}:{_one('USER')} {instance}" in run  # writable by the user, before VOLUME


def test_serves_by_default_on_every_interface():
    command = json.loads(_one("CMD"))
    assert command[:2] == ["registry", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert _one("EXPOSE") == command[command.index("--port") + 1] == "8000"
    assert "/-/health" in _one("HEALTHCHECK")


def test_compose_runs_serve_scheduler_and_postgres():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"registry", "scheduler", "postgres"}
    assert services["registry"]["command"][:2] == ["registry", "serve"]
    assert services["scheduler"]["command"] == ["registry", "scheduler"]
    assert services["registry"]["image"] == services["scheduler"]["image"] and services["registry"]["build"] == "."
    instance = _env()["REGISTRY_INSTANCE_PATH"]
    for name in ("registry", "scheduler"):
        env = services[name]["environment"]
        assert env["REGISTRY_DATABASE_URL"].startswith("postgresql://registry:")
        assert env["REGISTRY_DATABASE_URL"].endswith("@postgres:5432/registry")
        assert "${REGISTRY_SECRET_KEY:?" in env["REGISTRY_SECRET_KEY"]  # no default secret
        assert any(v.endswith(":" + instance) for v in services[name]["volumes"])
    assert services["postgres"]["image"].startswith("postgres:")
    assert "${POSTGRES_PASSWORD:?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]  # no default password
    assert services["registry"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["scheduler"]["depends_on"]["registry"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) >= {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}


def test_the_build_context_leaves_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "instance"} <= ignored
