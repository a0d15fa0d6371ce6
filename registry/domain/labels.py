"""The registry's label rule: labels are short lowercase slugs (``call-centre-scam``), made from
what people and feeds write (``#Info Stealer`` → ``info-stealer``). Submissions, feeds and STIX
imports all read labels through it."""

from __future__ import annotations

import re

LABEL = re.compile(r"^[a-z0-9][a-z0-9._:+-]{0,62}$")


def label_slug(label: str) -> str:
    """``#Info Stealer`` → ``info-stealer``; empty when nothing is left."""
    return label.strip().lstrip("#").lower().replace(" ", "-")


def is_label(slug: str) -> bool:
    return LABEL.match(slug) is not None
