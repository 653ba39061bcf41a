"""Regression tests for the access rules of memportal.access (one per hole the issue found)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from memportal import access
from memportal.agents.models import AppKey, KeyRead
from memportal.agents.services import appkey_create
from memportal.memory import services
from memportal.memory.models import Membership, Tenant
from memportal.memory.records import TABLE
from memportal.memory.tenancy import membership_ensure
from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.services import offboarding_run, offboarding_start
from memportal.staff.models import AccessRecord
from tests.factories import PASSWORD, tenant


def _count(app_id: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'app_id' = %s", [app_id])
        return cur.fetchone()[0]


def _api(key: str) -> dict:
    return {"headers": {"Authorization": f"Token {key}"}, "content_type": "application/json"}


def _add(client: Client, key: str, user_id: str, text: str) -> dict:
    response = client.post("/v3/memories/add/", {"messages": [{"role": "user", "content": text}],
                                                 "user_id": user_id}, **_api(key))
    assert response.status_code == 200, response.content
    return response.json()["results"][0]


# --- who may grant and use tenant-admin power -------------------------------------------------------
@pytest.mark.django_db
def test_staff_who_are_not_superusers_cannot_create_a_tenant_admin_key(staff):
    client = Client()
    client.force_login(staff.user)
    page = client.get(reverse("agents:keys"))
    assert page.status_code == 200 and 'name="can_admin"' not in page.content.decode()
    client.post(reverse("agents:keys"), {"name": "sneaky", "can_read": "on", "can_admin": "on",
                                         "tenant": "concierge_app"})
    assert not AppKey.objects.filter(can_admin=True).exists()
    with pytest.raises(access.Forbidden):
        appkey_create(tenant=staff.member.tenant, name="x", permissions=("tenant_admin",), created_by=staff.user)


@pytest.mark.django_db
def test_a_tenant_admin_key_made_by_staff_cannot_erase_the_tenant(client, staff, owner):
    """A key whose admin flag a non-superuser set (as the old keys page allowed) has no admin power."""
    _, raw = appkey_create(tenant=staff.member.tenant, name="old", permissions=("read", "write"),
                           created_by=staff.user)
    AppKey.objects.update(can_admin=True)
    _add(client, raw, "carol", "Carol's memory")
    response = client.delete("/v1/memories/?app_id=concierge_app&confirm_app_id=concierge_app", **_api(raw))
    assert response.status_code == 403
    assert not OffboardingJob.objects.exists() and _count("concierge_app") == 1


@pytest.mark.django_db
def test_api_offboarding_needs_a_superuser_key_and_the_typed_app_id(client, admin_person, owner):
    _, raw = appkey_create(tenant=tenant("concierge_app"), name="admin", permissions=("read", "write", "tenant_admin"),
                           created_by=admin_person.user)
    _add(client, raw, "carol", "Carol's memory")
    assert client.delete("/v1/memories/?app_id=concierge_app", **_api(raw)).status_code == 403
    assert client.delete("/v1/memories/?app_id=concierge_app&confirm_app_id=other", **_api(raw)).status_code == 403
    assert not OffboardingJob.objects.exists()
    response = client.delete("/v1/memories/?app_id=concierge_app&confirm_app_id=concierge_app", **_api(raw))
    assert response.status_code == 202
    assert OffboardingJob.objects.get().requested_by == admin_person.user


@pytest.mark.django_db
def test_staff_cannot_revoke_a_superusers_tenant_admin_key(staff, admin_person):
    key, _ = appkey_create(tenant=staff.member.tenant, name="admin", permissions=("tenant_admin",),
                           created_by=admin_person.user)
    client = Client()
    client.force_login(staff.user)
    assert client.post(reverse("agents:key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


# --- reads with a key are looks ---------------------------------------------------------------------
@pytest.mark.django_db
def test_reads_with_a_key_show_on_the_persons_who_looked_page_aggregated(client, staff):
    key, raw = appkey_create(tenant=staff.member.tenant, name="analytics", permissions=("read", "write"),
                             created_by=staff.user)
    _add(client, raw, "carol", "Carol likes jazz")
    for _ in range(3):
        response = client.post("/v3/memories/", {"filters": {"user_id": "*"}}, **_api(raw))
        assert response.status_code == 200 and response.json()["count"] == 1
    carol = Membership.objects.get(external_id="carol")
    row = KeyRead.objects.get(subject_id=carol.subject_id)
    assert (row.action, row.scope, row.requests, row.memories) == ("list", "everyone", 3, 3)
    assert KeyRead.objects.count() == 1  # one row per key, person, day and kind; not one per request
    memory_id = client.post("/v3/memories/", {"filters": {"user_id": "carol"}}, **_api(raw)).json()["results"][0]["id"]
    client.get(f"/v1/memories/{memory_id}/", **_api(raw))
    client.post("/v3/memories/search/", {"query": "music", "filters": {"user_id": "carol"}}, **_api(raw))
    assert set(KeyRead.objects.values_list("action", flat=True)) == {"list", "get", "search"}
    # Carol opens her page through a portal link and sees the key, its creator and the counts.
    link = client.post("/api/v1/portal-sessions", {"user_id": "carol"}, **_api(raw)).json()["url"]
    person = Client()
    person.post(link.removeprefix("http://testserver"))
    page = person.get(reverse("you:access")).content.decode()
    assert "analytics" in page and f"mpk_{key.prefix}_" in page and staff.email in page
    assert "everyone the app knows" in page


# --- ended memberships stay ended; nobody is joined by visiting a page -------------------------------
@pytest.mark.django_db
def test_people_of_an_offboarded_tenant_are_told_and_never_joined_elsewhere(owner, staff):
    services.memory_add(member=owner.member, messages="Alice is vegetarian")
    job = offboarding_start(tenant=owner.member.tenant)
    offboarding_run(job=job)
    client = Client()
    assert client.login(username=owner.user.username, password=PASSWORD)
    response = client.get(reverse("you:list"))
    assert response.status_code == 302 and response.url == reverse("you:welcome")
    page = client.get(response.url).content.decode()
    assert "Concierge App no longer holds memories about you" in page and "Receipt" in page
    assert not Membership.objects.filter(user=owner.user, ended_at__isnull=True).exists()
    assert Membership.objects.filter(user=owner.user).count() == 1


@pytest.mark.django_db
def test_a_superuser_opening_your_data_is_joined_to_no_tenant(admin_person):
    Membership.objects.filter(user=admin_person.user).delete()
    client = Client()
    client.force_login(admin_person.user)
    response = client.get(reverse("you:list"), follow=True)
    assert response.status_code == 200 and "Offboarding" in response.content.decode()
    client.get(reverse("agents:assistant"))
    assert not Membership.objects.filter(user=admin_person.user).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_joins_give_one_membership_and_no_error(django_user_model):
    user = django_user_model.objects.create_user(username="new", email="new@example.com", password=PASSWORD)
    place = Tenant.objects.create(slug="fresh_app", name="Fresh")
    barrier, results = threading.Barrier(4), []

    def join() -> None:
        try:
            barrier.wait(10)
            results.append(membership_ensure(user=user, tenant=place).pk)
        except Exception as exc:  # pragma: no cover - the assertion shows it
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=join) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(set(results)) == 1 and all(isinstance(r, int) for r in results), results


# --- what staff typed is never kept verbatim --------------------------------------------------------
@pytest.mark.django_db
def test_staff_search_text_is_stored_as_a_keyed_hash_and_length(staff, owner):
    services.memory_add(member=owner.member, messages="Alice has a rare diagnosis")
    client = Client()
    client.force_login(staff.user)
    for mode in ("text", "semantic"):
        assert client.get(reverse("staff:audit", args=["concierge_app"]), {"q": "rare diagnosis", "mode": mode}
                          ).status_code == 200
    for record in AccessRecord.objects.all():
        assert "rare diagnosis" not in str(record.filters)
    searched = AccessRecord.objects.filter(action="search")
    assert searched.count() == 2
    assert all(r.filters["search_length"] == len("rare diagnosis") and len(r.filters["search_hash"]) == 64
               for r in searched)


@pytest.mark.django_db
def test_a_revoked_key_reads_nothing(client, staff):
    key, raw = appkey_create(tenant=staff.member.tenant, name="k", created_by=staff.user)
    AppKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert client.post("/v3/memories/", {"filters": {"user_id": "*"}}, **_api(raw)).status_code == 401


@pytest.mark.django_db
def test_a_repeated_scope_parameter_on_your_data_pages_is_a_400_and_erases_nothing(owner):
    services.memory_add(member=owner.member, messages="keep me", agent_id="a", run_id="s1")
    client = Client()
    client.force_login(owner.user)
    assert client.get(reverse("you:list"), {"agent": ["a", "b"]}).status_code == 400
    assert client.get(reverse("you:erase_session"), {"session": ["s1", "s2"]}).status_code == 400
    assert client.post(reverse("you:erase_session"), {"session": ["nope", "s1"]}).status_code == 400
    assert _count("concierge_app") == 1


@pytest.mark.django_db
def test_signing_up_is_the_explicit_action_that_joins_the_sign_up_tenant(client):
    response = client.post(reverse("account_signup"), {"email": "newcomer@example.com", "password1": PASSWORD,
                                                      "password2": PASSWORD})
    assert response.status_code == 302
    member = Membership.objects.get(user__email="newcomer@example.com")
    assert member.tenant.slug == "concierge_app" and member.ended_at is None
    assert client.get(reverse("you:list")).status_code == 200


@pytest.mark.django_db
def test_a_person_who_erased_their_account_data_elsewhere_can_choose_to_start_again(owner):
    """Welcome page: a password account with no active membership gets an explicit join button,
    except for the tenant they left (their erasure there is not undone by a click)."""
    Membership.objects.filter(pk=owner.member.pk).update(ended_at=timezone.now(), ended_reason="account")
    client = Client()
    client.force_login(owner.user)
    page = client.get(reverse("you:welcome")).content.decode()
    assert "no longer holds memories about you" in page and 'name="join"' not in page
    assert client.post(reverse("you:welcome"), {"join": "1"}).status_code == 404
    assert not Membership.objects.filter(user=owner.user, ended_at__isnull=True).exists()
