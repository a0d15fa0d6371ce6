"""Every kind in ``registry.domain.kinds.KINDS`` has its place on every path that treats kinds
one by one, and every list of all kinds is ``KINDS`` itself.

A new kind added to ``KINDS`` fails here first, once per place it still lacks: a sample below,
then its half-life, allowlist place, STIX type, MISP type, TAXII collection, feed vocabulary and
the export tests' seeds. docs/design.md ("Where to add… A kind") lists the places in order.
"""

from __future__ import annotations

import click
import pytest

from registry.cli.exports import export_cmd
from registry.cli.imports import import_cmd
from registry.cli.lookup import lookup as lookup_cmd
from registry.config import SETTINGS
from registry.domain import allowlist, scoring
from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    KINDS,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.normalize import normalize_one
from registry.export import misp as misp_export
from registry.ingest import misp as misp_ingest
from registry.ingest.vocabulary import feed_kind
from registry.services import exports
from registry.stix import mapping, patterns
from registry.web.openapi import spec
from tests.exports import support as export_seed
from tests.stix import test_export as stix_export_test

# One plain value of each kind, on no built-in allowlist.
SAMPLES = {
    IPV4: "45.77.10.9", IPV6: "2a01:4f9::1", DOMAIN: "evil-kinds.example", URL: "http://evil-kinds.example/pay",
    PHONE: "+66812345678", EMAIL: "scam@evil-kinds.example",
    BANK_ACCOUNT: "KBank 123-4-56789-0", CRYPTO_WALLET: "USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    USER_ACCOUNT: "t.me/kbank_support_th", FILE_HASH: "d41d8cd98f00b204e9800998ecf8427e",
}


def canonical(kind: str):
    return normalize_one(SAMPLES[kind], kind)


def test_every_kind_has_a_sample_here():
    assert tuple(SAMPLES) == KINDS, "a new kind: give it a sample here, then see docs/design.md 'A kind'"


@pytest.mark.parametrize("kind", KINDS)
def test_the_sample_is_of_its_kind(kind):
    assert canonical(kind).kind == kind
    assert normalize_one(SAMPLES[kind]).kind == kind  # detected too


# -- lists of all kinds: KINDS itself -----------------------------------------------------------

def _choices(command: click.Command, name: str) -> tuple[str, ...]:
    (option,) = [p for p in command.params if p.name == name]
    return tuple(option.type.choices)


def test_cli_kind_choices_are_the_kinds():
    assert _choices(import_cmd, "kind") == KINDS
    assert _choices(export_cmd, "kind") == KINDS
    assert _choices(lookup_cmd, "kind") == KINDS


def test_export_format_choices_are_the_formats():
    # The CLI spells the formats out so that every command does not import the export service
    # at start; this keeps the two lists equal.
    from registry.services.exports import FORMATS

    assert _choices(export_cmd, "fmt") == FORMATS


def test_openapi_kind_enums_are_the_kinds():
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == "kind" and "schema" in node:
                enums.append(node["schema"]["enum"])
            if isinstance(node.get("kind"), dict) and "enum" in node["kind"]:
                enums.append(node["kind"]["enum"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(spec())
    assert enums and all(tuple(enum) == KINDS for enum in enums)


# -- per-kind behaviour: every kind has its entry ------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_default_half_life(kind):
    assert kind in scoring.DEFAULT_HALF_LIFES
    (setting,) = [s for s in SETTINGS if s.name == "HALF_LIFES"]
    assert setting.parse(setting.default) == scoring.DEFAULT_HALF_LIFES  # REGISTRY_HALF_LIFES's default agrees


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_default_review_days(kind):
    from registry.domain.standing import DEFAULT_REVIEW_DAYS

    assert kind in DEFAULT_REVIEW_DAYS
    (setting,) = [s for s in SETTINGS if s.name == "REVIEW_DAYS"]
    assert setting.parse(setting.default) == DEFAULT_REVIEW_DAYS  # REGISTRY_REVIEW_DAYS's default agrees


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_can_be_allowlisted(kind):
    value = canonical(kind)
    assert allowlist.Allowlist().reason_for(value) is None
    local = allowlist.Allowlist([allowlist.Entry(kind, value.value, "local")])
    assert local.reason_for(value) == "local"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_stix_type_read_back_from_its_pattern(kind):
    value = canonical(kind)
    stix_type = mapping.STIX_TYPE[kind]
    assert mapping.KIND_OF_TYPE[stix_type] == kind
    found = patterns.pattern_values(mapping.pattern(kind, value.value))
    assert [(mapping.KIND_OF_TYPE[f.stix_type], f.value) for f in found] == [(kind, value.value)]
    assert mapping.sco(kind, value.value)["type"] == stix_type
    assert mapping.default_description(kind, "ccib-th")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_misp_type_read_back_by_the_misp_import(kind):
    attribute_type, category = misp_export.ATTRIBUTE_TYPES[kind]
    assert category
    hint = misp_ingest.ATTRIBUTE_KINDS[attribute_type]
    assert hint == kind or (hint is None and normalize_one(SAMPLES[kind]).kind == kind)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_feed_kind_and_a_taxii_collection(kind):
    # Imported here: a kind without a collection title stops this module's import, and only this test
    # should fail for it.
    from registry.services import taxii

    assert feed_kind(kind) == (True, kind)
    assert taxii.collection(kind).kind == kind


def test_cidr_and_rpz_take_only_their_kinds():
    # Every other kind is left out of them on purpose (the cidr writer reads any non-ipv4 as ipv6).
    assert exports.FORMAT_KINDS == {"cidr": (IPV4, IPV6), "rpz": (DOMAIN,)}


def test_the_export_tests_seeds_hold_every_kind():
    # The STIX export tests (stix2-validator) and the PyMISP load read these seeds.
    assert {normalize_one(v).kind for v in export_seed.CCIB} == set(KINDS)
    assert {normalize_one(v).kind for v in stix_export_test.VALUES} == set(KINDS)
