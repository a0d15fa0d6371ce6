"""The registrable part of a domain, read from the public suffix rules directly, is what
tldextract gives for every kind of rule: plain, private, wildcard, exception, and Unicode."""

from __future__ import annotations

import random

import idna

from registry.domain.keys import _extractor, registrable_domain


def _expected(domain: str) -> str:
    parts = _extractor()(domain)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    return ".".join(domain.split(".")[-2:])


def _ascii(name: str) -> str | None:
    try:
        return idna.encode(name, uts46=True).decode()
    except idna.IDNAError:
        return None


def test_every_rule_of_the_suffix_list_agrees_with_tldextract():
    rng = random.Random(20261202)
    names = ["example", "evil.example", "co.th", "th", "kbank-secure.co.th", "a.b.kbank-secure.co.th"]
    for rule in _extractor().tlds:
        bare = rule.lstrip("!").removeprefix("*.")
        for name in (bare, f"x.{bare}", f"login.x.{bare}", f"a.b.c.{bare}", f"{rng.choice('abc')}q.w.{bare}"):
            ascii_name = _ascii(name) if not name.isascii() else name
            if ascii_name:
                names.append(ascii_name)
    for name in names:
        assert registrable_domain(name) == _expected(name), name
    rules = _extractor().tlds
    wildcard = sum(r.startswith("*.") for r in rules)
    exception = sum(r.startswith("!") for r in rules)
    unicode = sum(not r.isascii() for r in rules)
    assert wildcard > 10 and exception > 5 and unicode > 100  # the list really holds each kind
    assert registrable_domain("www.city.kawasaki.jp") == "city.kawasaki.jp"  # an exception
    assert registrable_domain("a.b.foo.kawasaki.jp") == "b.foo.kawasaki.jp"  # its wildcard


def test_generated_names_agree_with_tldextract():
    rng = random.Random(7)
    tlds = ["com", "co.th", "in.th", "com.my", "ph", "com.ph", "vn", "com.vn", "co.id", "sg", "com.kh",
            "jp", "co.jp", "cn", "com.cn", "blogspot.com", "github.io", "example", "xn--o3cw4h", "invalid"]
    for _ in range(5_000):
        labels = [rng.choice(["www", "login", "m", "kbank", "xn--12c1fe0br", "a1", "shop"]) for _ in range(rng.randrange(0, 4))]
        name = ".".join([*labels, rng.choice(tlds)])
        assert registrable_domain(name) == _expected(name), name
