"""A seeded, realistic workload: tenants, long-tailed people, agents, sessions, short sentences.

Pure Python + numpy (no Django), so the test suite can check it at a tiny size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

DRINKS = [
    "green tea",
    "oat flat white",
    "espresso",
    "sparkling water",
    "rooibos",
    "cold brew",
    "chai",
    "kombucha",
    "hot chocolate",
    "matcha",
    "decaf americano",
    "lemonade",
]
FOODS = [
    "peanuts",
    "shellfish",
    "gluten",
    "lactose",
    "sesame",
    "eggs",
    "soy",
    "strawberries",
    "mushrooms",
    "coriander",
    "olives",
    "spicy food",
    "red meat",
    "sushi",
    "ramen",
    "tacos",
    "lasagne",
    "falafel",
]
CITIES = [
    "Lisbon",
    "Berlin",
    "Osaka",
    "Toronto",
    "Nairobi",
    "Lyon",
    "Austin",
    "Bergen",
    "Porto",
    "Seoul",
    "Dublin",
    "Mumbai",
    "Quito",
    "Perth",
    "Krakow",
    "Leeds",
    "Busan",
    "Cape Town",
    "Denver",
    "Turin",
]
NAMES = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Nils",
    "Omar",
    "Priya",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yara",
    "Zoe",
]
RELATIONS = [
    "sister",
    "brother",
    "mother",
    "father",
    "daughter",
    "son",
    "partner",
    "best friend",
    "manager",
    "neighbour",
    "cousin",
    "grandmother",
]
HOBBIES = [
    "bouldering",
    "sourdough baking",
    "trail running",
    "chess",
    "watercolour painting",
    "salsa dancing",
    "birdwatching",
    "woodworking",
    "sea swimming",
    "board games",
    "photography",
    "gardening",
    "cycling",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIMES = ["morning", "afternoon", "evening", "late night"]
EVENTS = ["half marathon", "10k race", "triathlon", "cycling sportive", "swim meet", "chess tournament"]
TASKS = [
    "renew my passport",
    "book the dentist",
    "pay the gas bill",
    "call the bank",
    "water the plants",
    "send the quarterly report",
    "buy a birthday present",
    "cancel the gym membership",
]
SEATS = ["window seat", "aisle seat", "quiet carriage", "front row", "extra legroom"]
MUSIC = ["jazz", "techno", "folk", "classical piano", "hip hop", "bossa nova", "k-pop", "metal"]

TEMPLATES = [
    "I prefer {drink} in the {time}.",
    "I'm allergic to {food}.",
    "I really enjoy {food} on {day}s.",
    "My {relation} {name} lives in {city}.",
    "My {relation}'s birthday is on a {day} this year.",
    "I'm training for a {event} in {city}.",
    "I spend my weekends {hobby}.",
    "Please remind me to {task} on {day}.",
    "I always book a {seat} when I travel to {city}.",
    "I listen to {music} while working in the {time}.",
    "{name} from work recommended a place for {food} in {city}.",
    "I moved to {city} last year and miss {food} from home.",
    "I don't drink {drink} after the {time}.",
    "My {relation} and I go {hobby} together.",
]
QUERIES = [
    "what do I like to drink",
    "am I allergic to anything",
    "where does my family live",
    "what am I training for",
    "what are my hobbies",
    "what should I remember to do this week",
    "travel seating preferences",
    "what music do I like",
    "food I enjoy",
    "who recommended a restaurant",
    "my relatives' birthdays",
    "where did I move to",
]
AGENTS = ["concierge", "travel", "health", "support", "shopping"]
ROLES = ("user", "assistant")


@dataclass
class Person:
    tenant: str
    external_id: str
    n_memories: int


@dataclass
class Workload:
    seed: int
    tenants: list[str]
    people: list[Person]
    # One row per memory, columns aligned: index into people, text, agent, run, role, created_at.
    person_idx: np.ndarray
    texts: list[str]
    agents: list[str]
    runs: list[str]
    roles: list[str]
    created: list[datetime]
    queries: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.texts)


def person_sizes(n_memories: int, n_people: int, rng: np.random.Generator) -> np.ndarray:
    """Long-tailed: most people a handful to a few dozen memories, about 1 in 1,000 has thousands."""
    heavy = max(1, n_people // 1000) if n_memories >= 2000 else 0
    heavy_sizes = rng.integers(1000, 3001, size=heavy)
    while heavy and heavy_sizes.sum() > 0.3 * n_memories:  # keep the heavy tail under 30% of the store
        heavy_sizes = (heavy_sizes * 0.8).astype(int) + 1
    rest_people = n_people - heavy
    rest_total = n_memories - int(heavy_sizes.sum())
    raw = rng.lognormal(mean=np.log(6), sigma=1.0, size=rest_people)
    raw = np.clip(raw, 1, 300)
    sizes = np.maximum(1, np.floor(raw * rest_total / raw.sum())).astype(int)
    # Fix rounding so the total is exact: hand out (or take back) single memories.
    diff = rest_total - int(sizes.sum())
    order = rng.permutation(rest_people)
    i = 0
    while diff != 0:
        j = order[i % rest_people]
        if diff > 0:
            sizes[j] += 1
            diff -= 1
        elif sizes[j] > 1:
            sizes[j] -= 1
            diff += 1
        i += 1
    return np.concatenate([heavy_sizes, sizes]).astype(int)


def _sentence(rng: np.random.Generator) -> str:
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]

    def pick(options: list[str]) -> str:
        return options[int(rng.integers(len(options)))]

    return template.format(
        drink=pick(DRINKS),
        time=pick(TIMES),
        food=pick(FOODS),
        day=pick(DAYS),
        relation=pick(RELATIONS),
        name=pick(NAMES),
        city=pick(CITIES),
        event=pick(EVENTS),
        hobby=pick(HOBBIES),
        task=pick(TASKS),
        seat=pick(SEATS),
        music=pick(MUSIC),
    )


def generate(*, size: int, people: int | None = None, seed: int = 42, tenants: int = 4) -> Workload:
    """``size`` memories for ``people`` people (default size/10) spread over ``tenants`` tenants.

    Tenant weights are 50/30/10/10%, so at 1,000,000 memories the last tenant holds ~100,000
    (the offboarding target) and at 10,000 it holds ~1,000.
    """
    rng = np.random.default_rng(seed)
    n_people = people or max(1, size // 10)
    sizes = person_sizes(size, n_people, rng)
    weights = np.array([0.5, 0.3, 0.1, 0.1][:tenants] + [0.1] * max(0, tenants - 4))
    weights = weights / weights.sum()
    tenant_slugs = [f"bench_t{i}" for i in range(tenants)]
    # Assign people so each tenant's share of *memories* follows the weights (heavy people spread).
    order = rng.permutation(len(sizes))
    targets = weights * size
    filled = np.zeros(tenants)
    persons: list[Person] = []
    for rank, idx in enumerate(order):
        t = int(np.argmax(targets - filled))
        filled[t] += sizes[idx]
        persons.append(Person(tenant_slugs[t], f"p{rank:07d}", int(sizes[idx])))
    person_idx = np.repeat(np.arange(len(persons)), [p.n_memories for p in persons])
    # Interleave people in insertion order, as a live store would (not clustered per person).
    person_idx = person_idx[rng.permutation(len(person_idx))]
    n = len(person_idx)
    texts = [_sentence(rng) for _ in range(n)]
    agent_of = rng.integers(len(AGENTS), size=n)
    run_of = rng.integers(5, size=n)
    role_of = rng.random(n) < 0.8
    start = datetime(2025, 1, 1, tzinfo=UTC)
    seconds = np.sort(rng.integers(0, 2 * 365 * 86400, size=n))
    return Workload(
        seed=seed,
        tenants=tenant_slugs,
        people=persons,
        person_idx=person_idx,
        texts=texts,
        agents=[AGENTS[a] for a in agent_of],
        runs=[f"{persons[p].external_id}-s{r}" for p, r in zip(person_idx.tolist(), run_of.tolist(), strict=True)],
        roles=[ROLES[0] if r else ROLES[1] for r in role_of],
        created=[start + timedelta(seconds=int(s)) for s in seconds],
        queries=list(QUERIES),
    )


def sample_people(workload: Workload, *, count: int, seed: int = 7, heaviest: int = 2) -> list[int]:
    """Query subjects: a uniform sample of people plus the ``heaviest`` few.

    The sample has the same make-up at every store size (about 1% heavy people, as in the
    population, plus the two heaviest so their recall is always checked), so a p95 at 1M and
    one at 10k compare the same kind of person. Taking *every* heavy person instead would make
    half of a 1M sample heavy (100 of 200) and compare the heavy tail at 1M with the typical
    person at 10k.
    """
    rng = np.random.default_rng(seed)
    order = sorted(range(len(workload.people)), key=lambda i: -workload.people[i].n_memories)
    top = order[: min(heaviest, count)]
    pool = [i for i in range(len(workload.people)) if i not in set(top)]
    rest = rng.choice(len(pool), size=max(0, min(count, len(workload.people)) - len(top)), replace=False)
    return top + [pool[i] for i in rest.tolist()]


def exact_top_k(vectors: np.ndarray, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force cosine ranking (vectors are unit length): indices and scores, best first."""
    scores = vectors @ query
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top, scores[top]


def recall_at_k(returned_scores: list[float], exact_scores: np.ndarray, k: int = 10, tol: float = 1e-4) -> float:
    """Share of the exact top-k a search found; ties at the k-th score count (duplicate sentences)."""
    want = min(k, len(exact_scores))
    if want == 0:
        return 1.0
    threshold = float(exact_scores[want - 1]) - tol
    return min(want, sum(1 for s in returned_scores[:k] if s >= threshold)) / want
