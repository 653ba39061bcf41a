"""Who may open staff pages: staff of the tenant (404 for any other tenant), superusers; 403 otherwise."""

from __future__ import annotations

import uuid

import pytest

from memportal.memory import services
from memportal.staff.models import AccessRecord, ExportJob
from tests.staff.bulk import table_count

pytestmark = pytest.mark.django_db


def _pages(slug: str) -> list[tuple[str, str]]:
    job = uuid.uuid4()
    return [
        ("get", "/staff/"),
        ("get", f"/staff/{slug}/"),
        ("get", f"/staff/{slug}/?agent=any&q=x"),
        ("get", f"/staff/{slug}/lookup/person/?person=j"),
        ("get", f"/staff/{slug}/lookup/agent/?agent="),
        ("get", f"/staff/{slug}/lookup/session/?session=s"),
        ("get", f"/staff/{slug}/export/?fmt=jsonl"),
        ("get", f"/staff/{slug}/export/?fmt=csv"),
        ("post", f"/staff/{slug}/export/jobs/"),
        ("get", f"/staff/{slug}/export/jobs/{job}/"),
        ("get", f"/staff/{slug}/export/jobs/{job}/progress/"),
        ("get", f"/staff/{slug}/export/jobs/{job}/download/"),
        ("get", f"/staff/{slug}/webhooks/"),
    ]


def test_members_who_are_not_staff_get_403_on_every_staff_page(client, owner, stranger):
    for who in (owner, stranger):
        client.force_login(who.user)
        for slug in ("concierge_app", "sports_brand_portal", "no_such_tenant"):
            for method, url in _pages(slug):
                response = getattr(client, method)(url, {"fmt": "jsonl"} if method == "post" else None)
                assert response.status_code == 403, (who.email, url)
    assert AccessRecord.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, owner):
    response = client.get("/staff/concierge_app/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_of_concierge_get_404_for_everything_in_sports_brand_portal(client, staff, stranger):
    services.memory_add(member=stranger.member, messages="jane likes trail running")
    client.force_login(staff.user)
    for slug in ("sports_brand_portal", "no_such_tenant"):
        for method, url in _pages(slug)[1:]:
            response = getattr(client, method)(url, {"fmt": "jsonl"} if method == "post" else None)
            assert response.status_code == 404, url
    assert AccessRecord.objects.count() == 0
    assert ExportJob.objects.count() == 0


def test_staff_see_only_their_own_tenant_in_the_index(client, staff, sports_staff):
    client.force_login(staff.user)
    body = client.get("/staff/").content.decode()
    assert "concierge_app" in body and "sports_brand_portal" not in body


def test_staff_cannot_delete_memories(client, staff, owner):
    services.memory_add(member=owner.member, messages="alice's allergy: peanuts")
    client.force_login(staff.user)
    before = table_count("payload->>'app_id' = 'concierge_app'")
    for url in ("/staff/concierge_app/", "/staff/concierge_app/export/"):
        assert client.post(url).status_code == 405
        assert client.delete(url).status_code == 405
    # Staff is not Django-admin staff: the admin is closed to them too.
    assert client.get("/admin/").status_code == 302
    assert table_count("payload->>'app_id' = 'concierge_app'") == before == 1


def test_superusers_may_audit_every_tenant(client, admin_person, stranger):
    client.force_login(admin_person.user)
    assert client.get("/staff/sports_brand_portal/").status_code == 200
