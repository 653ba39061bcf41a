"""Import: a download file or a plain list of facts into one app, previewed first (stored
server-side, bound to the person and app, one use), then stored verbatim with source "import"."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from memportal.memory.models import MemoryEvent
from memportal.memory.services import memory_pause_set
from tests.you.conftest import remember, texts

CHATGPT_LIST = """- Is vegetarian
• Prefers window seats
3. Lives in Lisbon
2) Has a dog named Rex
* Is vegetarian

-
"""


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def preview(client: Client, text: str | None = None, upload: bytes | None = None, tenant: str = "concierge_app"):
    data: dict = {"tenant": tenant}
    if text is not None:
        data["text"] = text
    if upload is not None:
        data["file"] = SimpleUploadedFile("memories.json", upload, content_type="application/json")
    return client.post(reverse("you:import"), data)


def test_the_preview_strips_bullets_and_shows_duplicates_and_rejections_storing_nothing(alice_client, owner):
    remember(owner, "Lives in Lisbon")
    response = preview(alice_client, CHATGPT_LIST + "x" * 2001 + "\n")
    assert response.status_code == 200
    body = response.content.decode()
    added = re.search(r'data-testid="import-add">(.*?)</ol>', body, re.S).group(1)
    assert [t for t in ("Is vegetarian", "Prefers window seats", "Has a dog named Rex") if t in added] == [
        "Is vegetarian", "Prefers window seats", "Has a dog named Rex"]
    assert "Lives in Lisbon" not in added and "• " not in added and "3. " not in added
    assert "already remembered" in body and "appears earlier in this import" in body
    assert "nothing left after removing the bullet" in body and "the limit is 2000" in body
    assert texts(owner) == ["Lives in Lisbon"]


def test_confirming_stores_the_preview_once_with_source_import(alice_client, owner):
    token = _token(preview(alice_client, CHATGPT_LIST))
    response = alice_client.post(reverse("you:import_confirm"), {"token": token})
    assert response.status_code == 302
    assert texts(owner) == ["Has a dog named Rex", "Is vegetarian", "Lives in Lisbon", "Prefers window seats"]
    events = MemoryEvent.objects.filter(subject_id=owner.member.subject_id)
    assert events.count() == 4 and {e.source for e in events} == {"import"} and {e.event for e in events} == {"ADD"}
    # the same token again imports nothing
    again = alice_client.post(reverse("you:import_confirm"), {"token": token}, follow=True)
    assert "nothing was imported" in again.content.decode()
    assert len(texts(owner)) == 4


def test_the_history_of_an_imported_memory_says_so(alice_client, owner):
    alice_client.post(reverse("you:import_confirm"), {"token": _token(preview(alice_client, "Likes tea"))})
    memory_id = str(MemoryEvent.objects.get(subject_id=owner.member.subject_id).memory_id)
    assert "Imported by you" in alice_client.get(reverse("you:detail", args=[memory_id])).content.decode()


def test_a_download_file_from_another_memportal_is_imported(alice_client, owner, stranger, jane_memory):
    jane = Client()
    jane.force_login(stranger.user)
    download = b"".join(jane.get(reverse("you:export")).streaming_content)
    response = preview(alice_client, upload=download)
    assert response.status_code == 200 and "download file" in response.content.decode()
    alice_client.post(reverse("you:import_confirm"), {"token": _token(response)})
    assert texts(owner) == ["Jane runs marathons"]
    assert texts(stranger) == ["Jane runs marathons"]  # jane's own memory is untouched


def test_a_forged_or_missing_token_imports_nothing(alice_client, owner):
    preview(alice_client, "Likes tea")
    for token in ("forged", ""):
        response = alice_client.post(reverse("you:import_confirm"), {"token": token}, follow=True)
        assert "nothing was imported" in response.content.decode()
    assert texts(owner) == []


def test_a_preview_cannot_be_confirmed_by_someone_else(alice_client, owner, colleague):
    token = _token(preview(alice_client, "Alice's fact"))
    bob = Client()
    bob.force_login(colleague.user)
    bob.post(reverse("you:import_confirm"), {"token": token})
    assert texts(colleague) == [] and texts(owner) == []


def test_it_refuses_an_app_the_person_is_not_in(alice_client, owner, stranger):
    response = preview(alice_client, "sneaky", tenant="sports_brand_portal")
    assert response.status_code == 400
    assert texts(stranger) == [] and texts(owner) == []


def test_paused_memory_imports_nothing(alice_client, owner):
    token = _token(preview(alice_client, "Likes tea"))
    memory_pause_set(member=owner.member, paused=True)
    response = alice_client.post(reverse("you:import_confirm"), {"token": token}, follow=True)
    assert "Memory is paused" in response.content.decode()
    assert texts(owner) == []


@pytest.mark.parametrize("upload,why", [
    (b"\xff\xfe\x00bad", "is not UTF-8 text"),
    (b'{"format": "something-else", "memories": []}', "not a memportal download"),
    (b'{"format": "memportal.export/1"', "does not parse"),
    (b'{"format": "memportal.export/1", "memories": {}}', "without a"),
    (b"\n\n   \n", "has no facts"),
])
def test_an_unusable_file_is_refused_with_a_clear_error(alice_client, owner, upload, why):
    response = preview(alice_client, upload=upload)
    assert response.status_code == 400
    body = response.content.decode()
    assert why in body and "Nothing was imported" in body
    assert texts(owner) == []


@override_settings(MEMPORTAL={**__import__("django.conf").conf.settings.MEMPORTAL, "MAX_IMPORT_BYTES": 100,
                              "MAX_IMPORT_FACTS": 3})
def test_size_limits_are_enforced(alice_client, owner):
    response = preview(alice_client, upload=b"a fact\n" * 20)
    assert response.status_code == 400 and "the limit is 100" in response.content.decode()
    response = preview(alice_client, "one\ntwo\nthree\nfour")
    assert response.status_code == 400 and "the limit is 3 per import" in response.content.decode()
    assert texts(owner) == []


def test_download_items_that_are_not_text_are_rejected_one_by_one(alice_client, owner):
    doc = {"format": "memportal.export/1", "memories": [{"memory": "good one"}, {"memory": 5}, "bare", {}]}
    response = preview(alice_client, upload=json.dumps(doc).encode())
    body = response.content.decode()
    assert response.status_code == 200 and "good one" in body
    assert body.count("must be a string") == 3


def test_a_file_and_a_paste_together_are_refused(alice_client, owner):
    response = alice_client.post(reverse("you:import"), {
        "tenant": "concierge_app", "text": "a", "file": SimpleUploadedFile("f.txt", b"b")})
    assert response.status_code == 400 and texts(owner) == []


def test_it_needs_a_signed_in_person(client):
    assert client.get(reverse("you:import")).status_code == 302
    assert client.post(reverse("you:import_confirm"), {"token": "x"}).status_code == 302


def test_cancelling_drops_the_pending_preview_from_the_session(alice_client, owner):
    token = _token(preview(alice_client, "Likes tea"))
    assert "you_import_preview" in alice_client.session
    alice_client.get(reverse("you:import"))
    assert "you_import_preview" not in alice_client.session
    alice_client.post(reverse("you:import_confirm"), {"token": token})
    assert texts(owner) == []
