"""One process, one shared mem0 instance, eight threads at once: no errors, exact counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from memportal.memory import selectors, services
from tests.factories import person

THREADS = 8
PER_THREAD = 15


@pytest.mark.django_db(transaction=True)
def test_eight_threads_share_one_service_without_errors():
    people = [person(f"thread{i}", "concierge_app" if i % 2 else "sports_brand_portal") for i in range(THREADS)]

    def work(index: int) -> tuple[int, int]:
        member = people[index].member
        try:
            for n in range(PER_THREAD):
                services.memory_add(member=member, messages=f"thread {index} memory {n}", agent_id=f"agent{n % 3}")
                selectors.memory_search(member=member, query=f"memory {n}", limit=5)
            first = selectors.memory_list(member=member, page_size=1).items[0]
            services.memory_update(member=member, memory_id=first.id, text=f"thread {index} corrected")
            services.memory_delete(member=member, memory_id=first.id)
            texts = {r.text for r in selectors.memory_list(member=member, page_size=100).items}
            assert all(t.startswith(f"thread {index} ") for t in texts)
            return selectors.memory_count(member=member), len(texts)
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))

    assert results == [(PER_THREAD - 1, PER_THREAD - 1)] * THREADS
