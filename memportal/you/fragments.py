"""Rendered parts of a person's own pages, cached per person and per data version.

A fragment is looked up by a key made of the membership (pk and mem0 subject id), the signed-in
account, the tenant's name and the person's data version (``memory.versions``: a new token on
every write and erasure, in the write's transaction), plus whatever selects the view (filters,
page). Nothing in a fragment may depend on anything else: per-request parts (the CSRF token,
messages, the pause banner) stay outside it in the template.

Fragments live in the ``you_fragments`` cache: memory in each web process (``LocMemCache``,
bounded, LRU, short timeout), never the database or a disk, so the text of an erased memory is
not left at rest anywhere; a worker's copy is unreachable from the moment the erasure commits
(its version is gone) and is dropped by the LRU or the timeout. See docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import caches

from memportal.memory.models import Membership
from memportal.memory.versions import person_data_version

CACHE_ALIAS = "you_fragments"


def fragment_key(*, member: Membership, user_pk: Any, name: str, parts: tuple[Any, ...]) -> str:
    """The key of one fragment of ``member``'s page. The data version comes with the membership
    (access.person_memberships_all reads it in the same query), else costs one query."""
    version = getattr(member, "data_version", None) or person_data_version(
        subject_id=member.subject_id, tenant_id=member.tenant_id
    )
    vary = hashlib.blake2b(repr((member.tenant.name, parts)).encode(), digest_size=16).hexdigest()
    return f"you:{name}:{member.pk}:{member.subject_id}:{user_pk}:{version}:{vary}"


def fragment_get(key: str | None) -> str | None:
    return None if key is None else caches[CACHE_ALIAS].get(key)


def fragment_set(key: str, html: str) -> None:
    caches[CACHE_ALIAS].set(key, html)
