from django.urls import reverse

from tests.you.conftest import remember


def test_it_requires_sign_in(client, owner):
    response = client.get(reverse("you:list"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_it_shows_only_own_memories(alice_client, alice_memory, bob_memory, jane_memory):
    response = alice_client.get(reverse("you:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Alice is vegetarian" in body
    assert "Bob loves steak" not in body
    assert "Jane runs marathons" not in body


def test_it_shows_agent_session_and_totals(alice_client, alice_memory):
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "concierge" in body and "alice-s1" in body
    assert "remember <strong id=\"all-total\">1</strong> thing about you" in body


def test_it_lists_newest_first_and_pages(alice_client, owner):
    for i in range(27):
        remember(owner, f"fact number {i:02d}", run_id="s1")
    first = alice_client.get(reverse("you:list")).content.decode()
    assert first.index("fact number 26") < first.index("fact number 25")
    assert "fact number 01" not in first
    assert "Page 1 of 2" in first
    second = alice_client.get(reverse("you:list"), {"page": 2}).content.decode()
    assert "fact number 01" in second and "fact number 26" not in second


def test_it_filters_by_agent(alice_client, owner):
    remember(owner, "Likes jazz", agent_id="music", run_id="m1")
    remember(owner, "Flies economy", agent_id="travel", run_id="t1")
    body = alice_client.get(reverse("you:list"), {"agent": "music"}).content.decode()
    assert "Likes jazz" in body and "Flies economy" not in body


def test_it_filters_by_session(alice_client, owner):
    remember(owner, "Likes jazz", agent_id="music", run_id="m1")
    remember(owner, "Likes blues", agent_id="music", run_id="m2")
    body = alice_client.get(reverse("you:list"), {"session": "m2"}).content.decode()
    assert "Likes blues" in body and "Likes jazz" not in body


def test_it_never_shows_another_persons_session_through_the_filter(alice_client, alice_memory, bob_memory):
    body = alice_client.get(reverse("you:list"), {"session": "bob-s1"}).content.decode()
    assert "Bob loves steak" not in body
    assert "No memories match this filter" in body


def test_it_rejects_a_wildcard_filter(alice_client, alice_memory, bob_memory):
    response = alice_client.get(reverse("you:list"), {"agent": "*"})
    assert response.status_code == 400
    assert "Bob loves steak" not in response.content.decode()


def test_it_rejects_a_bad_page_number(alice_client, alice_memory):
    assert alice_client.get(reverse("you:list"), {"page": "abc"}).status_code == 400


def test_it_explains_memories_when_there_are_none(alice_client, owner):
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "Nothing is remembered about you yet" in body
    assert "A <strong>memory</strong> is a short fact" in body


def test_it_shows_the_paused_banner(alice_client, owner):
    from memportal.memory.services import memory_pause_set

    memory_pause_set(member=owner.member, paused=True)
    assert "Memory is paused." in alice_client.get(reverse("you:list")).content.decode()


def test_it_escapes_memory_text(alice_client, owner):
    remember(owner, '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">')
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "<script>window.__xss" not in body
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in body
