"""The normalize package's seams: kinds registered in the documented detection order, canonical
values that stay apart across kinds, and phone fast paths that need no private name of
phonenumbers at import time (and give the same answers without them)."""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest

import registry
import registry.domain.normalize as normalize_package
from registry.domain.kinds import KINDS
from registry.domain.normalize import NormalizeError, handlers, normalize, phone_fast
from registry.domain.normalize.ip import IPV4_KIND

PRIVATE_STEPS = ("_maybe_strip_national_prefix_carrier_code", "_test_number_length")  # as phonenumbers names them


# --------------------------------------------------------------------------------------
# the registry of kinds


def test_every_kind_is_registered_once_in_the_documented_detection_order():
    documented = re.findall(r"^\s+\d+\. ([\w-]+) ", normalize_package.__doc__, re.MULTILINE)
    assert handlers.registered() == tuple(documented)
    assert sorted(handlers.registered()) == sorted(KINDS)


def test_registering_a_kind_twice_is_refused_and_changes_nothing():
    before = handlers.registered()
    with pytest.raises(ValueError, match="kinds registered twice: ipv4"):
        handlers.register(IPV4_KIND)
    assert handlers.registered() == before


SAMPLES = [
    "203.0.113.7", "198.51.100.0-198.51.100.255", "2001:db8::1", "2001:db8::/48", "::ffff:192.0.2.9",
    "https://Login.Example.com:443/a?b=c", "hxxp://b\u00fccher[.]example/x", "ftp://[2001:db8::2]:2121/f",
    "Abuse@Example.COM", "mailto:x@b\u00fccher.example", "+66 81 234 5678", "+855 97 123 ****",
    "tel:+63-917-123-4567", "www.example.co.th", "xn--bcher-kva.example", "\u4f8b\u3048.\u30c6\u30b9\u30c8",
]


@pytest.mark.parametrize("raw", SAMPLES)
def test_a_canonical_value_normalises_to_itself_as_its_own_kind(raw):
    # Probe keys are bare canonical values (domain.keys): two kinds never share one because
    # each canonical value is detected as its own kind, by its kind's own detector.
    for value in normalize(raw, None, "TH"):
        assert handlers.detect(value.value) == value.kind
        assert normalize(value.value) == (value,)


# --------------------------------------------------------------------------------------
# phonenumbers' private names


def _e164_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    # Partner countries weigh more; 54 (AR) and 52 (MX) strip carrier codes and prefixes.
    codes += [66, 855, 60, 63, 84, 62, 95, 856, 81, 86, 54, 52, 39] * 20
    return [
        f"+{rng.choice(codes)}{rng.randrange(1, 10)}" + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(3, 12)))
        for _ in range(count)
    ]


def _answers(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        try:
            out.append(repr(normalize(text, None, "TH")))
        except NormalizeError as exc:
            out.append(str(exc))
    return out


@pytest.mark.parametrize("missing", [0, 1])
def test_without_phonenumbers_private_steps_the_public_parser_gives_the_same_answers(monkeypatch, missing):
    # A phonenumbers release that renamed one of the steps (phonenumbers itself must keep
    # working, so the names looked for change, not the library).
    texts = _e164_texts(15_000, seed=20261203)
    numbers = [n for n in map(phone_fast.e164_number, texts) if n is not None]
    invalid = [n for n in numbers if phone_fast.number_type(n) == phone_fast.UNKNOWN]
    read_alike = sum(map(phone_fast.parsed_alike, invalid))
    expected = _answers(texts)
    renamed = list(PRIVATE_STEPS)
    renamed[missing] += "_renamed"
    assert not hasattr(phonenumbers.phonenumberutil, renamed[missing])
    with monkeypatch.context() as patch:
        patch.setattr(phone_fast, "_PARSE_STEP_NAMES", tuple(renamed))
        phone_fast._parse_steps.cache_clear()
        try:
            assert phone_fast._parse_steps() is None
            assert not any(map(phone_fast.parsed_alike, numbers))  # every number: the public parser
            got = _answers(texts)
        finally:
            phone_fast._parse_steps.cache_clear()
    assert got == expected
    # The sample covers both branches: invalid numbers the private steps vouch for (their
    # reason given without parse) and ones they send to parse.
    assert read_alike > 5_000 and len(invalid) - read_alike > 500
    assert sum(a.startswith("(Value(") for a in expected) > 1_000
    assert sum("is not a valid phone" in a for a in expected) > 5_000


def test_importing_the_package_binds_no_private_step():
    # Without the private names at import time the package still imports (phonenumbers' own
    # parse needs them back before any number is read) and looks nothing up until then.
    code = (
        "import phonenumbers.phonenumberutil as util\n"
        f"saved = {{name: util.__dict__.pop(name) for name in {PRIVATE_STEPS!r}}}\n"
        "from registry.domain.normalize import normalize, NormalizeError, phone_fast\n"
        "assert phone_fast._parse_steps.cache_info().currsize == 0\n"
        "vars(util).update(saved)\n"
        "try:\n    normalize('+6681234')\nexcept NormalizeError as e:\n    print(e.reason)\n"
        "print(phone_fast._parse_steps() == tuple(saved.values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["not a possible number for TH (too short)", "True"]


def _private_bindings_at_import(path: Path) -> list[str]:
    """``_name`` attributes of imported modules and ``from lib import _name`` evaluated when
    the module is imported (module and class bodies, decorators, defaults; not function bodies)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for part in [*getattr(node, "decorator_list", []), *args.defaults, *args.kw_defaults]:
                if part is not None:
                    visit(part)
            return
        if isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not node.module.startswith("registry"):
            found.extend(f"from {node.module} import {a.name}" for a in node.names if private(a.name))
        elif isinstance(node, ast.Attribute) and private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append(f"{ast.unparse(node)} (line {node.lineno})")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_module_binds_a_private_name_of_a_library_at_import():
    package = Path(registry.__file__).parent
    found = {str(p.relative_to(package)): _private_bindings_at_import(p) for p in sorted(package.rglob("*.py"))}
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize(("text", "region", "named"), [
    ("123-4-56789-0", None, "or a bank account number: give the kind bank-account"),
    ("1234567890", "TH", "or a bank account number: give the kind bank-account"),
    ("@kbank_support", None, "an @name is a messaging account: give its platform (telegram, line,"),
])
def test_a_value_only_its_kind_would_tell_names_the_other_candidates(text, region, named):
    with pytest.raises(NormalizeError) as e:
        normalize(text, None, region)
    assert named in e.value.reason
    with pytest.raises(NormalizeError) as e:  # the kind given: its own reason only
        normalize(text, "phone" if text[0] != "@" else "email", region)
    assert named not in e.value.reason


def test_the_other_candidates_read_as_named():
    assert normalize("123-4-56789-0", "bank-account", "TH")[0].value == "acct:TH:-:1234567890"
    assert normalize("@kbank_support", None, None, "telegram")[0].value == "telegram:kbank_support"
