"""Every page is served with a Content-Security-Policy that allows no inline script."""

import pytest
from django.urls import reverse

from memportal.memory import services
from tests.you.conftest import reauthenticate


def _script_src(header: str) -> str:
    for directive in header.split(";"):
        if directive.strip().startswith("script-src"):
            return directive
    raise AssertionError("no script-src")


@pytest.fixture
def pages(owner, alice_memory) -> list[str]:
    receipt = services.memory_delete_all(member=owner.member, agent_id="nobody")
    return [
        reverse("you:list"), reverse("you:search") + "?q=food", reverse("you:detail", args=[alice_memory.id]),
        reverse("you:edit", args=[alice_memory.id]), reverse("you:delete", args=[alice_memory.id]),
        reverse("you:receipt", args=[receipt.pk]), reverse("you:erase_session") + "?session=alice-s1",
        reverse("you:erase_agent") + "?agent=concierge", reverse("you:pause"), reverse("you:access"),
        reverse("you:export"), reverse("account_reauthenticate"),
        reverse("you:erase_all"), reverse("you:account_delete"),
    ]


def test_every_page_has_a_csp_without_unsafe_inline_script(alice_client, pages):
    reauthenticate(alice_client)
    for url in pages:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        header = response["Content-Security-Policy"]
        assert "'unsafe-inline'" not in _script_src(header), url
        assert "'unsafe-eval'" not in header, url
        assert "script-src 'self'" in header, url


def test_signed_out_pages_have_a_csp(client, db):
    for url in (reverse("account_login"), reverse("account_signup")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in _script_src(response["Content-Security-Policy"])


def test_pages_hold_no_inline_script_or_handlers(alice_client, pages):
    import re

    reauthenticate(alice_client)
    for url in [*pages, reverse("account_login"), reverse("account_signup")]:
        response = alice_client.get(url)
        if response.streaming:
            continue
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert not re.search(r"\son[a-z]+=", body), url
        assert " style=" not in body, url
