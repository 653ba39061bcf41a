"""The staff webhooks page: the tenant's webhooks and every delivery attempt, for its staff only,
logged as a look; no memory text and no person's id on it."""

from __future__ import annotations

import pytest

from memportal.staff.models import AccessRecord
from tests.agents.test_webhooks import delivery_retried_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_twice():
    return delivery_retried_once()


def test_staff_see_each_attempt_of_each_delivery_and_the_look_is_logged(client, staff, delivered_twice):
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/webhooks/")
    assert response.status_code == 200
    page = response.content.decode()
    assert str(delivered_twice.pk) in page and "HTTP 500" in page and "HTTP 200" in page
    assert page.count('data-testid="attempt"') == 2 and "memory_add" in page
    assert "aisle" not in page and "dana" not in page  # no memory text, no person's id
    record = AccessRecord.objects.get()
    assert record.actor == staff.user and record.filters == {"page": "webhooks"} and record.subject_ids == []
    assert "webhooks" in client.get("/staff/concierge_app/").content.decode()  # linked from the audit page


def test_other_tenants_staff_get_404_and_nothing_logged(client, sports_staff, delivered_twice):
    client.force_login(sports_staff.user)
    assert client.get("/staff/concierge_app/webhooks/").status_code == 404
    page = client.get("/staff/sports_brand_portal/webhooks/").content.decode()
    assert str(delivered_twice.pk) not in page and "No deliveries yet" in page
    assert not AccessRecord.objects.filter(tenant__slug="concierge_app").exists()
