"""Shared fixtures. Tests run on the real PostgreSQL + pgvector (embedded unless DATABASE_URL).

The three people of every isolation test: ``owner`` (alice), ``colleague`` (bob, same tenant)
and ``stranger`` (jane, another tenant).
"""

from __future__ import annotations

import pytest

from tests.factories import Person, person


@pytest.fixture
def owner(db) -> Person:
    return person("alice", "concierge_app")


@pytest.fixture
def colleague(db) -> Person:
    return person("bob", "concierge_app")


@pytest.fixture
def stranger(db) -> Person:
    return person("jane", "sports_brand_portal")


@pytest.fixture
def staff(db) -> Person:
    return person("concierge_staff", "concierge_app", role="staff")
