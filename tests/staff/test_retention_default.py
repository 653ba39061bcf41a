"""Staff set their tenant's default auto-delete; the change is in the access log."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from memportal.staff.models import AccessRecord


def _client(who) -> Client:
    client = Client()
    client.force_login(who.user)
    return client


def test_staff_set_the_default_and_it_is_logged(staff, owner):
    response = _client(staff).post(reverse("staff:retention", args=["concierge_app"]), {"retention_months": "18"})
    assert response.status_code == 302
    owner.member.tenant.refresh_from_db()
    assert owner.member.tenant.retention_months == 18
    record = AccessRecord.objects.get(action="setting")
    assert record.actor == staff.user and record.filters == {"setting": "retention_months", "from": 0, "to": 18}
    assert record.subject_ids == [] and record.memories_shown == 0
    page = _client(staff).get(reverse("staff:retention", args=["concierge_app"])).content.decode()
    assert "retention_months: 0 → 18" in page


def test_it_refuses_a_value_that_is_not_offered(staff, owner):
    response = _client(staff).post(reverse("staff:retention", args=["concierge_app"]), {"retention_months": "5"})
    assert response.status_code == 400
    owner.member.tenant.refresh_from_db()
    assert owner.member.tenant.retention_months == 0 and not AccessRecord.objects.exists()


def test_a_member_cannot_set_it(owner):
    response = _client(owner).post(reverse("staff:retention", args=["concierge_app"]), {"retention_months": "3"})
    assert response.status_code == 403  # like every staff page for a non-staff person
    owner.member.tenant.refresh_from_db()
    assert owner.member.tenant.retention_months == 0


def test_staff_of_one_tenant_cannot_set_another(staff, stranger):
    response = _client(staff).post(reverse("staff:retention", args=["sports_brand_portal"]),
                                   {"retention_months": "3"})
    assert response.status_code == 404
    stranger.member.tenant.refresh_from_db()
    assert stranger.member.tenant.retention_months == 0


def test_the_person_sees_the_default_on_their_page(staff, owner):
    _client(staff).post(reverse("staff:retention", args=["concierge_app"]), {"retention_months": "36"})
    page = _client(owner).get(reverse("you:retention")).content.decode()
    assert "default, after 36 months" in page
