"""Every state-changing request is refused without a CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from memportal.memory.models import ErasureReceipt
from tests.you.conftest import texts


@pytest.fixture
def strict_client(owner) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    return client


def _posts(memory_id: str) -> list[tuple[str, dict]]:
    return [
        (reverse("you:edit", args=[memory_id]), {"text": "changed"}),
        (reverse("you:delete", args=[memory_id]), {}),
        (reverse("you:erase_session"), {"session": "alice-s1"}),
        (reverse("you:erase_agent"), {"agent": "concierge"}),
        (reverse("you:erase_all"), {"confirm": "delete everything"}),
        (reverse("you:pause"), {"paused": "1"}),
        (reverse("you:tenant_switch"), {"tenant": "concierge_app"}),
        (reverse("you:account_delete"), {"confirm": "delete my account"}),
    ]


@pytest.mark.parametrize("index", range(8))
def test_it_refuses_state_changes_without_a_csrf_token(strict_client, owner, alice_memory, index):
    url, data = _posts(alice_memory.id)[index]
    response = strict_client.post(url, data)
    assert response.status_code == 403, url
    owner.member.refresh_from_db()
    assert texts(owner) == ["Alice is vegetarian"]
    assert not owner.member.memory_paused
    assert not ErasureReceipt.objects.exists()


def test_it_refuses_htmx_delete_without_the_csrf_header(strict_client, owner, alice_memory):
    response = strict_client.post(reverse("you:delete", args=[alice_memory.id]), headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert texts(owner) == ["Alice is vegetarian"]
