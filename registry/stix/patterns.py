"""Reading STIX patterns: which registry values a pattern names, or why it names none.

The registry keeps values, not detection logic, so a pattern is representable when it is a
disjunction of plain value tests:

- ``[T:value = 'x']`` and ``[T:value IN ('x', 'y')]`` for T in ipv4-addr, ipv6-addr,
  domain-name, url, email-addr, phone-number, bank-account, cryptocurrency-wallet;
- ``[ipv4-addr:value ISSUBSET '198.51.100.0/24']`` (and ipv6), a range;
- ``[phone-number:value LIKE '+85597123%']``, a number block (``+85597123*``);
- a file by its hashes: ``[file:hashes.'SHA-256' = 'x']``; several hashes of one file, one
  hash per algorithm, joined by ``OR`` in one observation (as OpenCTI writes them) or by ``AND``
  (as MISP does) are one value (``md5:… sha256:…``, which the file-hash kind reads as one file);
- an account: ``[user-account:account_type = 'telegram' AND user-account:account_login = 'x']``
  (or ``user_id`` for a phone-keyed account or a Facebook profile id); a bank account by its
  ``value``, ``iban``, or ``account_number`` with or without ``bic``;
- ``OR`` of any of these, inside one observation or between observations;
- a reference written out, as MISP's STIX 2.0 export does:
  ``[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '1.2.3.4']``
  (``src_ref``/``dst_ref`` of network-traffic, ``from_ref``/``sender_ref`` of email-message).

An ``AND`` inside one observation over one file, account or bank account names that object by
the properties that identify it (hashes; platform and login; IBAN or number and bank); the
other properties it tests (a file's name or size, an account's display name) describe the same
object and are not kept. Anything else (x509 fields, a file by its name alone, ``AND`` of
different objects, ``NOT``, ``MATCHES``, ``FOLLOWEDBY``, qualifiers such as ``WITHIN``) raises
``Unrepresentable`` with the reason. Only ``OR`` can be split into values without changing what
the pattern means: keeping one side of an ``AND`` of different objects would flag more than the
source did.

A small tokenizer and recursive-descent parser of our own: nothing is evaluated, and it costs a
small fraction of the ANTLR-based ``stix2patterns`` a pattern (docs/performance.md; a bundle
may hold a million indicators). The common one-comparison form skips even that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.domain.normalize.account_rules import PLATFORMS, platform_name
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.file_hash import file_hashes_text
from registry.stix.mapping import KIND_OF_TYPE, numbered_platform


class Unrepresentable(ValueError):
    """A pattern the registry cannot hold as values; the message says why."""


@dataclass(frozen=True, slots=True)
class PatternValue:
    """One value a pattern names: its STIX object type (None: detect the kind) and the text,
    ``+85597123*`` for a number block."""

    stix_type: str | None
    value: str


_STRING = r"'(?:[^'\\]|\\.)*'"
_FAST = re.compile(r"\[\s*([a-z0-9-]+):value\s*(=|ISSUBSET)\s*(" + _STRING + r")\s*\]", re.S)
_PATH_STEP = r"(?:[A-Za-z0-9_]+|" + _STRING + r")"
_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<path>[a-z0-9][a-z0-9-]*:" + _PATH_STEP + r"(?:\." + _PATH_STEP + r"|\[(?:\d+|\*)\])*)"
    r"|(?P<typed>[thb]" + _STRING + r")"
    r"|(?P<string>" + _STRING + r")"
    r"|(?P<number>[-+]?\d+(?:\.\d+)?)"
    r"|(?P<op>!=|<=|>=|=|<|>)"
    r"|(?P<punct>[\[\](),])"
    r"|(?P<word>[A-Za-z_]+)"
    r")",
    re.S,
)
_OPERATOR_WORDS = {"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "IN"}
# A reference property whose target's value we can hold, and the types it may point to.
_REFS = {
    ("network-traffic", "src_ref"), ("network-traffic", "dst_ref"),
    ("email-message", "from_ref"), ("email-message", "sender_ref"),
}


def unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1], flags=re.S)


def pattern_values(pattern: str) -> list[PatternValue]:
    """The values a STIX pattern names, in order, without repeats; ``Unrepresentable`` if it
    cannot be held as values."""
    if pattern is not None and not isinstance(pattern, str):
        raise Unrepresentable("the indicator's pattern must be a string (STIX patterning)")
    if not isinstance(pattern, str) or not pattern.strip():
        raise Unrepresentable("the indicator has no pattern")
    fast = _FAST.fullmatch(pattern.strip())
    if fast:
        stix_type, op, literal = fast.groups()
        return [_comparison_value(_Comparison((stix_type, "value"), op, False, unquote(literal)))]
    tree = _Parser(pattern).parse()
    out: list[PatternValue] = []
    for item in _values(tree):
        if item not in out:
            out.append(item)
    return out


# -- parsing -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Comparison:
    path: tuple[str, ...]  # object type, then property steps (``'SHA-256'`` unquoted)
    op: str
    negated: bool
    value: object  # str, a tuple of them (IN), or a _Other for what is not a string


@dataclass(frozen=True, slots=True)
class _Other:
    text: str  # a number, boolean, timestamp, hex or binary literal, as written


@dataclass(frozen=True, slots=True)
class _Node:
    kind: str  # "or" / "and" (comparisons), "obs-or" / "obs-and" / "followedby", "qualified", "observation"
    items: tuple


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise Unrepresentable(f"not a STIX pattern: cannot read {text[pos:pos + 20]!r}")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0

    # helpers
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise Unrepresentable("not a STIX pattern: it ends too early")
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text:
            raise Unrepresentable(f"not a STIX pattern: expected {text!r}, found {value!r}")

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] in words

    # grammar: FOLLOWEDBY binds loosest, then OR, then AND, at both levels
    def parse(self) -> _Node:
        node = self.observations()
        if self.peek() is not None:
            raise Unrepresentable(f"not a STIX pattern: unexpected {self.peek()[1]!r}")
        return node

    def observations(self) -> _Node:
        return self._chain("followedby", "FOLLOWEDBY", lambda: self._chain("obs-or", "OR", lambda: self._chain(
            "obs-and", "AND", self.qualified)))

    def _chain(self, kind: str, word: str, item) -> _Node:
        items = [item()]
        while self.at_word(word):
            self.take()
            items.append(item())
        return items[0] if len(items) == 1 else _Node(kind, tuple(items))

    def qualified(self) -> _Node:
        node = self.observation()
        qualifiers = []
        while self.at_word("WITHIN", "REPEATS", "START"):
            word = self.take()[1]
            words = [word]
            stop = {"WITHIN": "SECONDS", "REPEATS": "TIMES", "START": None}[word]
            while True:
                kind, value = self.take()
                words.append(value)
                if (stop and value == stop) or (word == "START" and len(words) == 4):
                    break
            qualifiers.append(" ".join(words))
        return _Node("qualified", (node, tuple(qualifiers))) if qualifiers else node

    def observation(self) -> _Node:
        kind, value = self.take()
        if value == "[":
            node = self.comparisons()
            self.expect("]")
            return _Node("observation", (node,))
        if value == "(":
            node = self.observations()
            self.expect(")")
            return node
        raise Unrepresentable(f"not a STIX pattern: expected '[' or '(', found {value!r}")

    def comparisons(self):
        return self._chain("or", "OR", lambda: self._chain("and", "AND", self.comparison))

    def comparison(self):
        kind, value = self.take()
        if value == "(":
            node = self.comparisons()
            self.expect(")")
            return node
        if kind == "word" and value == "EXISTS":
            path_kind, path = self.take()
            return _Comparison(_split_path(path), "EXISTS", False, None)
        if kind != "path":
            raise Unrepresentable(f"not a STIX pattern: expected an object path, found {value!r}")
        path = _split_path(value)
        negated = False
        if self.at_word("NOT"):
            self.take()
            negated = True
        op_kind, op = self.take()
        if op_kind == "word" and op not in _OPERATOR_WORDS:
            raise Unrepresentable(f"not a STIX pattern: unknown operator {op!r}")
        if op_kind not in ("op", "word"):
            raise Unrepresentable(f"not a STIX pattern: expected an operator, found {op!r}")
        return _Comparison(path, op, negated, self.literal())

    def literal(self):
        kind, value = self.take()
        if kind == "string":
            return unquote(value)
        if value == "(":
            items = [self.literal()]
            while self.peek() is not None and self.peek()[1] == ",":
                self.take()
                items.append(self.literal())
            self.expect(")")
            return tuple(items)
        if kind in ("number", "typed") or (kind == "word" and value in ("true", "false")):
            return _Other(value)
        raise Unrepresentable(f"not a STIX pattern: expected a value, found {value!r}")


def _split_path(path: str) -> tuple[str, ...]:
    object_type, _, rest = path.partition(":")
    steps = re.findall(r"'(?:[^'\\]|\\.)*'|[A-Za-z0-9_]+|\[(?:\d+|\*)\]", rest)
    return (object_type, *(unquote(s) if s.startswith("'") else s for s in steps))


# -- from the tree to values -----------------------------------------------------------------------

# Types whose ``value`` property is a registry value, and the objects named by other properties.
VALUE_TYPES = frozenset(t for t in KIND_OF_TYPE if t not in ("file", "user-account"))
_OBJECT_TYPES = frozenset(("file", "user-account", "bank-account"))
_KEPT = ("IPs, domains, URLs, email addresses, phone numbers, bank accounts, crypto wallets, user accounts, "
         "file hashes")
_FILE_KEPT = "a file is kept by its MD5, SHA-1 or SHA-256 hash"
# What identifies each object (tested with =); its other properties only describe it.
_IDENTIFYING = {
    "user-account": {("account_type",), ("account_login",), ("user_id",)},
    "bank-account": {("value",), ("iban",), ("account_number",), ("bic",)},
}


def _values(node) -> list[PatternValue]:
    if isinstance(node, _Comparison):
        return [_comparison_value(node)] if node.op != "IN" else _in_values(node)
    if node.kind == "or":
        return _or_values(node.items)
    if node.kind == "obs-or":
        return [v for item in node.items for v in _values(item)]
    if node.kind == "observation":
        return _values(node.items[0])
    if node.kind == "and":
        return [_and_value(node.items)]
    if node.kind == "obs-and":
        raise Unrepresentable("AND between observations: only all of them together are suspicious")
    if node.kind == "followedby":
        raise Unrepresentable("FOLLOWEDBY describes a sequence of events, not values")
    if node.kind == "qualified":
        raise Unrepresentable(f"qualifier {' '.join(node.items[1])} cannot be kept with a value")
    raise Unrepresentable(f"unsupported pattern part {node.kind}")


def _described(c: _Comparison) -> str:
    return f"{c.path[0]}:{'.'.join(c.path[1:])}"


def _is_hash(c) -> bool:
    return isinstance(c, _Comparison) and c.path[0] == "file" and len(c.path) == 3 and c.path[1] == "hashes"


def _comparison_value(c: _Comparison) -> PatternValue:
    object_type, steps = c.path[0], c.path[1:]
    if c.negated:
        raise Unrepresentable(f"NOT {c.op} on {_described(c)} names what is not suspicious")
    if _is_hash(c):
        if c.op != "=" or not isinstance(c.value, str):
            raise Unrepresentable(f"{c.op} on {_described(c)}: a file is named by its hash with =")
        return PatternValue("file", hashes_text({c.path[2]: c.value}))
    if object_type in _IDENTIFYING and steps in _IDENTIFYING[object_type]:
        if c.op != "=" or not isinstance(c.value, str):
            raise Unrepresentable(f"{c.op} on {_described(c)} cannot be held as a value")
        return PatternValue(object_type, object_text(object_type, {steps[0]: c.value}))
    if steps != ("value",) or object_type not in VALUE_TYPES:
        if object_type in ("network-traffic", "email-message") and len(steps) == 2 and steps[1] == "value" \
                and (object_type, steps[0]) in _REFS and c.op == "=" and isinstance(c.value, str):
            return PatternValue("email-addr" if object_type == "email-message" else None, c.value)
        kept = _FILE_KEPT if object_type == "file" else _KEPT
        raise Unrepresentable(f"{_described(c)} is not a value the registry keeps ({kept})")
    if not isinstance(c.value, str):
        raise Unrepresentable(f"{_described(c)} {c.op} needs a string value")
    if c.op == "=":
        return PatternValue(object_type, c.value)
    if c.op == "ISSUBSET" and object_type in ("ipv4-addr", "ipv6-addr"):
        return PatternValue(object_type, c.value)
    if c.op == "LIKE" and object_type == "phone-number":
        digits = c.value[:-1]
        if c.value.endswith("%") and "%" not in digits and "_" not in digits:
            return PatternValue(object_type, digits + "*")
        raise Unrepresentable("a phone-number LIKE must be a number prefix ending in %")
    raise Unrepresentable(f"{c.op} on {_described(c)} cannot be held as a value")


def _in_values(c: _Comparison) -> list[PatternValue]:
    if not isinstance(c.value, tuple) or not all(isinstance(v, str) for v in c.value):
        raise Unrepresentable(f"{_described(c)} IN needs a list of strings")
    return [_comparison_value(_Comparison(c.path, "=", c.negated, v)) for v in c.value]


def _or_values(items: tuple) -> list[PatternValue]:
    """The values of an OR in one observation. Its file hashes, one per algorithm, are the hashes
    of one file (OpenCTI writes a file's hashes so); with an algorithm twice, each is a file."""
    hashes = [c for c in items if _is_hash(c) and c.op == "=" and not c.negated and isinstance(c.value, str)]
    keys = [c.path[2].lower().replace("-", "") for c in hashes]
    one_file = len(hashes) > 1 and len(set(keys)) == len(keys)  # a SHA-512 beside them: of the same file
    out: list[PatternValue] = []
    for item in items:
        if one_file and item is hashes[0]:
            out.append(PatternValue("file", hashes_text({c.path[2]: c.value for c in hashes})))
        elif not (one_file and item in hashes):
            out.extend(_values(item))
    return out


def _flat_and(items: tuple) -> list:
    out = []
    for item in items:
        if isinstance(item, _Node) and item.kind == "and":
            out.extend(_flat_and(item.items))
        else:
            out.append(item)
    return out


def _and_value(items: tuple) -> PatternValue:
    """An AND in one observation: one object's identifying properties (the others describe it),
    else a reference written out."""
    flat = _flat_and(items)
    types = {c.path[0] for c in flat if isinstance(c, _Comparison)}
    if len(types) != 1 or next(iter(types)) not in _OBJECT_TYPES or not all(isinstance(c, _Comparison) for c in flat):
        return _reference_value(items)
    object_type = next(iter(types))
    found: dict[str, str] = {}
    for c in flat:
        identifying = _is_hash(c) if object_type == "file" else c.path[1:] in _IDENTIFYING[object_type]
        if not identifying:
            continue  # a file's name, an account's display name: the same object, described
        if c.negated or c.op != "=" or not isinstance(c.value, str):
            raise Unrepresentable(f"{'NOT ' if c.negated else ''}{c.op} on {_described(c)} cannot name "
                                  f"a {object_type}: it is named with =")
        key = c.path[2] if object_type == "file" else c.path[1]
        if found.setdefault(key, c.value) != c.value:
            raise Unrepresentable(f"two different {_described(c)} in one observation: AND of different objects")
    if object_type == "file":
        if not found:
            raise Unrepresentable(f"a file named by none of its hashes ({_FILE_KEPT})")
        return PatternValue("file", hashes_text(found))
    return PatternValue(object_type, object_text(object_type, found))


def _reference_value(items: tuple) -> PatternValue:
    """``X:ref.type = 'T' AND X:ref.value = 'v'`` over one reference: the value, typed T."""
    both = Unrepresentable("AND of several conditions: only all of them together are suspicious")
    simple = all(isinstance(c, _Comparison) and c.op == "=" and not c.negated and isinstance(c.value, str)
                 for c in items)
    refs = {c.path[:2] for c in items} if simple else set()
    if len(refs) != 1 or next(iter(refs)) not in _REFS:
        for item in items:  # say what is wrong with a part when one is not a value at all
            if isinstance(item, _Comparison):
                _comparison_value(item)
        raise both
    values = [c.value for c in items if c.path[2:] == ("value",)]
    types = {c.value for c in items if c.path[2:] == ("type",)}
    if len(values) != 1 or len(types) > 1 or len(values) + len(types) != len(items):
        raise both
    stix_type = next(iter(types)) if types else None
    if stix_type is not None and stix_type not in VALUE_TYPES:
        raise Unrepresentable(f"a reference to a {stix_type} is not a value the registry keeps")
    return PatternValue(stix_type, values[0])


# -- the objects that are not one value: their text for the kinds' normalisers ---------------------
# (shared with stix.drafts, which reads the same objects as SCOs)

def hashes_text(hashes: dict) -> str:
    """``md5:… sha256:…`` of a STIX ``hashes`` dictionary, which the file-hash kind reads as one
    file; Unrepresentable when it holds no hash the registry keeps."""
    # Keyed by the algorithm's name, so a key written twice (MD5, md5) is one hash, the last.
    text = file_hashes_text({key.lower().replace("-", ""): digest for key, digest in hashes.items()
                             if isinstance(key, str) and isinstance(digest, str)})
    if not text:
        names = ", ".join(str(k) for k in hashes) or "none"
        raise Unrepresentable(f"a file with hashes {names}: {_FILE_KEPT}")
    return text


def object_text(object_type: str, properties: dict) -> str:
    """The text of a user-account or bank-account named by its STIX ``properties`` (a pattern's
    tests, or the SCO itself): ``account_text``, ``bank_account_text``."""
    if object_type == "user-account":
        return account_text(properties.get("account_type"), properties.get("account_login"),
                            properties.get("user_id"))
    return bank_account_text(properties.get("value"), properties.get("iban"), properties.get("account_number"),
                             properties.get("bic"))


def account_text(account_type, login, user_id) -> str:
    """``platform:identifier`` of a user-account's fields (the user-account kind checks the
    identifier); Unrepresentable when they name no account the registry keeps."""
    if not isinstance(account_type, str) or not account_type.strip():
        raise Unrepresentable("a user-account without account_type names no platform")
    try:
        platform = platform_name(account_type)
    except Invalid:
        raise Unrepresentable(f"a user-account of account_type {account_type!r}: not a platform the registry "
                              f"keeps ({', '.join(PLATFORMS)})") from None
    if isinstance(login, str) and login.strip():
        return f"{platform}:{login.strip()}"
    if isinstance(user_id, str) and user_id.strip():
        if not numbered_platform(platform):
            raise Unrepresentable(f"a user_id on {platform} is the platform's own number for the account; the "
                                  "registry keeps its login (account_login)")
        return f"{platform}:{user_id.strip()}"
    raise Unrepresentable(f"a {platform} user-account without account_login or user_id")


def bank_account_text(value, iban, number, bic) -> str:
    """The text the bank-account kind reads for a bank-account's fields: the registry's own
    ``value``, else the IBAN, else the account number after its BIC (or alone: the source's
    country then says where it is)."""
    for text in (value, iban):
        if isinstance(text, str) and text.strip():
            return text.strip()
    if isinstance(number, str) and number.strip():
        if isinstance(bic, str) and bic.strip():
            return f"{bic.strip()} {number.strip()}"
        return number.strip()
    raise Unrepresentable("a bank-account without value, iban or account_number")
