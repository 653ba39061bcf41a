"""Webhook deliveries through the real queue: committed writes defer procrastinate jobs, and a
procrastinate worker run in this process (until the queue is empty) delivers them, retrying a
failed attempt with the task's RetryStrategy."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from procrastinate.periodic import PeriodicRegistry

from memportal.agents.models import WebhookDelivery
from memportal.queue import app
from tests.agents.receiver import Receiver
from tests.agents.test_webhooks import add, call, create, verify

pytestmark = pytest.mark.django_db(transaction=True)


def _jobs() -> list[tuple[str, str, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT task_name, status, attempts FROM procrastinate_jobs WHERE queue_name = 'webhooks'")
        return cur.fetchall()


def _run_worker() -> None:
    """A procrastinate worker on the webhooks queue, in this process, until nothing is due."""
    worker_app = app.with_connector(app.connector.get_worker_connector())
    worker_app.periodic_registry = PeriodicRegistry()  # this test's worker runs deliveries only
    worker_app.run_worker(queues=["webhooks"], wait=False, install_signal_handlers=False, listen_notify=False)


def test_a_committed_add_is_delivered_by_a_procrastinate_worker_with_a_retry(concierge_key, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_BACKOFF_BASE": 0}  # retry at once (0**n seconds)
    receiver = Receiver(statuses=[500]).start()
    try:
        secret = create(concierge_key, receiver.url).json()["secret"]
        memory_id = add(concierge_key, "Dana prefers aisle seats")
        assert _jobs() == [("agents.webhook_deliver", "todo", 0)]  # deferred once the add committed
        _run_worker()
    finally:
        receiver.stop()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_rows.all()] == [500, 200]
    assert _jobs() == []  # one job (retried once by procrastinate), dropped from the queue when it succeeded
    assert len(receiver.received) == 2
    last = receiver.received[-1]
    assert verify(secret, last.headers["X-Memportal-Signature"], last.body)
    assert json.loads(last.body)["data"]["memory_id"] == memory_id


def test_a_refused_write_notifies_nobody(concierge_key, make_key):
    receiver = Receiver().start()
    try:
        create(concierge_key, receiver.url)
        reader = make_key("concierge_app", ("read",))
        assert call(reader, "post", "/v3/memories/add/", {"messages": [{"role": "user", "content": "x"}],
                                                          "user_id": "dana", "infer": False}).status_code == 403
        bad = call(concierge_key, "post", "/v3/memories/add/", {"messages": [{"role": "user", "content": ""}],
                                                                "user_id": "dana"})
        assert bad.status_code == 400
        _run_worker()
    finally:
        receiver.stop()
    assert receiver.received == [] and not WebhookDelivery.objects.exists() and _jobs() == []
