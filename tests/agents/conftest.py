"""Fixtures for the agent API: app keys per tenant and the real mem0 client against live_server.

Tests never import mem0 (only memportal.memory may): ``memportal.memory.client`` builds the
unmodified ``MemoryClient`` / ``AsyncMemoryClient``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from memportal.agents.services import appkey_create
from memportal.memory.client import platform_client
from tests.factories import tenant

COMPAT_CHECK = "test_the_generated_table_lists_every_method_of_every_client_and_is_current"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The compatibility-table check reads what the client tests (Python and TypeScript) recorded
    in this run: it goes last, after pytest-django's own reordering."""
    check = [item for item in items if item.name == COMPAT_CHECK]
    if check:
        items[:] = [item for item in items if item.name != COMPAT_CHECK] + check


@pytest.fixture
def make_key(db) -> Callable[..., str]:
    def make(slug: str = "concierge_app", permissions: tuple[str, ...] = ("read", "write"), **kw) -> str:
        return appkey_create(tenant=tenant(slug), name=f"{slug} test", permissions=permissions, **kw)[1]

    return make


@pytest.fixture
def concierge_key(make_key) -> str:
    return make_key("concierge_app")


@pytest.fixture
def sports_key(make_key, django_user_model) -> str:
    # Tenant-admin power needs a superuser creator (memportal.access.key_grant_check).
    root = django_user_model.objects.create_superuser(username="sports_root", email="sports_root@example.com")
    return make_key("sports_brand_portal", ("read", "write", "tenant_admin"), created_by=root)


@pytest.fixture
def live_api(transactional_db, live_server):
    """The live server's URL; memories (mem0's table is not a Django model, so a flush
    leaves it) are wiped afterwards so each test starts from an empty store."""
    yield live_server.url
    with connection.cursor() as cur:
        cur.execute("TRUNCATE memportal_memories")


@pytest.fixture
def mem0_client(live_api) -> Callable[[str], object]:
    def make(raw_key: str, *, asynchronous: bool = False):
        return platform_client(api_key=raw_key, host=live_api, asynchronous=asynchronous)

    return make


def texts(result) -> set[str]:
    items = result["results"] if isinstance(result, dict) else result
    return {m["memory"] for m in items}


@pytest.fixture
def fake_llm(settings):
    """MEMPORTAL_LLM=openai pointed at a scripted OpenAI-compatible server on loopback
    (tests/llm_server.py). mem0_backend.get_memory builds a new mem0 Memory for these settings."""
    from tests.llm_server import fake_llm_server

    with fake_llm_server() as llm:
        settings.MEMPORTAL = {**settings.MEMPORTAL, "LLM": "openai", "LLM_BASE_URL": llm.base_url,
                              "LLM_API_KEY": "test-key", "LLM_MODEL": "fake-model"}
        yield llm
