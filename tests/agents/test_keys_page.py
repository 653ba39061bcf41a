"""/api/keys/: tenant staff create (shown once), list and revoke their tenant's keys only."""

from __future__ import annotations

import pytest

from memportal.agents.models import AppKey, token_hash
from memportal.agents.services import appkey_create
from tests.factories import PASSWORD, person, tenant

pytestmark = pytest.mark.django_db


def _login(client, who) -> None:
    assert client.login(username=who.user.username, password=PASSWORD)


def test_staff_creates_a_key_shown_once_and_stored_hashed(client, staff):
    _login(client, staff)
    response = client.post("/api/keys/", {"name": "web backend", "can_read": "on", "can_write": "on"})
    assert response.status_code == 200
    raw = response.context["raw_key"]
    key = AppKey.objects.get()
    assert key.tenant.slug == "concierge_app" and key.permissions == ["read", "write"]
    assert key.secret_hash == token_hash(raw) and raw not in key.secret_hash
    assert raw not in client.get("/api/keys/").content.decode()


def test_members_cannot_manage_keys(client, owner):
    _login(client, owner)
    assert client.get("/api/keys/").status_code == 403  # a role refusal: reveals no tenant


def test_staff_cannot_see_or_revoke_another_tenants_keys(client, staff):
    other, _ = appkey_create(tenant=tenant("sports_brand_portal"), name="sports")
    _login(client, staff)
    assert "sports" not in client.get("/api/keys/?tenant=sports_brand_portal").content.decode()
    assert client.post(f"/api/keys/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_staff_revokes_a_key(client, staff):
    key, _ = appkey_create(tenant=tenant("concierge_app"), name="old")
    _login(client, staff)
    assert client.post(f"/api/keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and not key.is_active


def test_superuser_manages_any_tenant(client):
    root = person("root", "concierge_app", superuser=True)
    appkey_create(tenant=tenant("sports_brand_portal"), name="sports key")
    _login(client, root)
    assert "sports key" in client.get("/api/keys/?tenant=sports_brand_portal").content.decode()


def test_a_known_demo_key_value_can_be_installed():
    raw = "mpk_demo0001_" + "d" * 40
    key, returned = appkey_create(tenant=tenant("concierge_app"), name="demo", raw_key=raw)
    assert returned == raw and key.prefix == "demo0001"


def test_revoking_asks_first_and_a_get_changes_nothing(client, staff):
    key, _ = appkey_create(tenant=tenant("concierge_app"), name="web backend")
    _login(client, staff)
    page = client.get(f"/api/keys/{key.pk}/revoke/")
    assert page.status_code == 200 and "Revoke key “web backend”?" in page.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None
    assert client.post(f"/api/keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_keys_page_links_the_api_guide_which_the_site_serves(client, staff):
    _login(client, staff)
    body = client.get("/api/keys/").content.decode()
    assert 'href="/docs/api/"' in body and "docs/api.md" not in body
    guide = client.get("/docs/api/")
    assert guide.status_code == 200 and "<h1>The memory API" in guide.content.decode()
