"""An app server's agent, written for the mem0 platform, pointed at memportal.

The only change from the hosted platform is ``host=``. Everything else is mem0ai 2.x's own
``MemoryClient`` and call shapes: ``add`` with messages and user_id / agent_id / run_id,
``search`` and ``get_all`` with ``filters``, ``get``, ``update``, ``history``, ``delete``,
``delete_all``.

    pip install mem0ai==2.2.1
    MEMPORTAL_HOST=http://127.0.0.1:8000 MEM0_API_KEY=mpk_... python examples/agent.py

With ``bin/dev`` running, use the demo key ``seed_demo`` prints for ``concierge_app``. Each person
(``user_id``: the app's own id for them) sees only their own memories; the key decides the tenant.
"""

from __future__ import annotations

import os

from mem0 import MemoryClient

HOST = os.environ.get("MEMPORTAL_HOST", "http://127.0.0.1:8000")
AGENT = "travel_planner"
TRIP = "lisbon-2026-05"


def show(what: str, value: object) -> None:
    print(f"{what}: {value}", flush=True)


def texts(answer: dict) -> list[str]:
    return sorted(m["memory"] for m in answer["results"])


def main() -> None:
    # The platform's client, unchanged but for host=; it checks the key on construction.
    client = MemoryClient(api_key=os.environ["MEM0_API_KEY"], host=HOST)
    show("connected to project", client.project_id)

    # Two people tell the travel agent about themselves during one trip-planning session each.
    added = client.add([{"role": "user", "content": "I am vegetarian"},
                        {"role": "assistant", "content": "Noted, I will pick vegetarian restaurants."}],
                       user_id="alice", agent_id=AGENT, run_id=TRIP)
    show("added for alice", [(r["event"], r["memory"]) for r in added["results"]])
    show("inference", added.get("inference"))
    client.add([{"role": "user", "content": "I always want a window seat on flights"}],
               user_id="bob", agent_id=AGENT, run_id="bob-trip")

    # Recall: always scoped by filters (mem0 2.x refuses top-level ids on search and get_all).
    found = client.search("what should I eat?", filters={"AND": [{"user_id": "alice"}, {"agent_id": AGENT}]})
    show("search alice", texts(found))
    show("search bob", texts(client.search("where do I sit?", filters={"user_id": "bob"})))
    everything = client.get_all(filters={"user_id": "alice"}, page=1, page_size=50)
    show("get_all alice", f"{everything['count']} memories: {texts(everything)}")

    # A correction, with its history.
    memory_id = found["results"][0]["id"]
    client.update(memory_id, text="I am vegan")
    show("after update", client.get(memory_id)["memory"])
    show("history", [h["event"] for h in client.history(memory_id)])

    # The session ends: forget it; then alice asks to be forgotten altogether. Bob is untouched.
    client.delete(memory_id)
    show("deleted one", memory_id)
    client.delete_all(user_id="alice")
    show("alice after delete_all", texts(client.get_all(filters={"user_id": "alice"})))
    show("bob after alice's delete_all", texts(client.get_all(filters={"user_id": "bob"})))
    client.delete_all(user_id="bob", run_id="bob-trip")
    show("bob after closing his session", texts(client.get_all(filters={"user_id": "bob"})))


if __name__ == "__main__":
    main()
