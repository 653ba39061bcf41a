"""Hybrid search: exact cosine ranking fused with PostgreSQL full-text matches, then a floor.

One implementation for every search surface (the person's /you/search/, the staff audit's
semantic search, the API's search and the "what would the agent see" page), so they rank and
cut alike. ``_rows.searched`` runs the SQL; this module is the pure part (fusion, floor,
words), tuned on the labelled set in tests/memory/search_set/ (``python -m bench.search_quality``).

Three candidate lists, each confined to the caller's scope (a person, a tenant, an API's
clauses) *before* anything is ranked:

- ``vector``: today's exact ``ORDER BY vector <=> q`` over the scope's rows (no ANN);
- ``all``: memories holding every content word of the query (stemmed, stop words dropped,
  ``plainto_tsquery``), by cosine;
- ``any``: those of the two lists' candidates that hold at least one of them (only for queries
  of 2+ words; asked of the candidates only, since a common word can be in a third of a heavy
  person's memories). It lowers the floor and is not ranked.

The "all" list is answered by the GIN index on (user_id, to_tsvector(text)) (migration 0008):
its cost is the person's matching rows, never the table or a to_tsvector per row.
Reciprocal rank fusion (k = 60) adds up each memory's vector and "all" ranks, and a memory
holding every query word ranks above one that does not: a word typed verbatim from a memory
finds it first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .records import MemoryRecord

#: Text search configuration: English stemming ("seats" finds "seat") and stop words ("I",
#: "my", "the" match nothing). A literal in the SQL: the index expression must match exactly.
TS_CONFIG = "english"
#: The indexed expression (migration 0008). Changing it needs a new index.
TSV_SQL = f"to_tsvector('{TS_CONFIG}'::regconfig, payload->>'data')"
#: Words of a query used for the keyword lists (a query is at most a few thousand characters;
#: a search needs no more than this many words to find its keyword matches).
MAX_WORDS = 16
#: Reciprocal rank fusion's constant (Cormack et al. 2009; the usual value).
RRF_K = 60


@dataclass(frozen=True)
class Floor:
    """The relevance floor, tuned on tests/memory/search_set (docs/benchmarks.md).

    A memory is shown when it holds every query word, or its cosine similarity reaches
    ``cosine``, or it holds one of the query's words and reaches ``keyword_cosine``. When some
    memory holds every query word (the person typed something they wrote), the others need
    ``beside_keyword`` instead of ``cosine``: "Porto" shows the memory about Porto, not every
    memory about Portugal. A memory is a "strong match" when it holds every query word or
    reaches ``strong``; else a "weak match".
    """

    cosine: float = 0.25
    keyword_cosine: float = 0.2
    beside_keyword: float = 0.5
    strong: float = 0.5


FLOOR = Floor()

STRONG, WEAK = "strong", "weak"

_WORD = re.compile(r"[^\W_]+")


def query_words(query: str) -> list[str]:
    """The query's words (letters and digits only), at most MAX_WORDS, in order, no repeats.

    Each becomes its own ``plainto_tsquery`` parameter: tsquery operators a person types
    (``& | ! ( ) : *``) are separators here, never syntax.
    """
    seen: list[str] = []
    for word in _WORD.findall(query.lower()):
        if word not in seen:
            seen.append(word)
        if len(seen) == MAX_WORDS:
            break
    return seen


#: Loads the records of the memories a search shows: ids -> records (a memory erased meanwhile
#: is simply absent).
Loader = Callable[[list[str]], dict[str, MemoryRecord]]


@dataclass
class Candidate:
    id: str
    cosine: float
    load: Loader = field(repr=False, compare=False)
    vector_rank: int | None = None
    all_rank: int | None = None
    any_rank: int | None = None

    @property
    def all_words(self) -> bool:
        return self.all_rank is not None

    @property
    def some_word(self) -> bool:
        return self.any_rank is not None or self.all_rank is not None

    @property
    def rrf(self) -> float:
        # "Any word" is not ranked: one common word ("prefer" in "food preferences") put "I prefer
        # boutique hotels" above "I am vegetarian" on the labelled set. It only lowers the floor.
        return sum(1.0 / (RRF_K + r) for r in (self.vector_rank, self.all_rank) if r is not None)


def candidates(rows: Iterable[tuple[str, str, float]], *, load: Loader) -> list[Candidate]:
    """(list name, memory id, cosine) rows -> one candidate per memory with its rank in each list.

    Rows of one list arrive in any order; ranks are by cosine, best first, ties by id (the
    SQL's own order). ``load`` fetches the records of those ``fuse`` shows.
    """
    by_id: dict[str, Candidate] = {}
    lists: dict[str, list[Candidate]] = {"vector": [], "all": [], "any": []}
    for name, memory_id, cosine in rows:
        cand = by_id.setdefault(memory_id, Candidate(id=memory_id, cosine=cosine, load=load))
        lists[name].append(cand)
    for name, members in lists.items():
        members.sort(key=lambda c: (-c.cosine, c.id))
        for rank, cand in enumerate(members, start=1):
            setattr(cand, f"{name}_rank", rank)
    return list(by_id.values())


def shown(cand: Candidate, floor: Floor = FLOOR, *, keyword_hit: bool = False) -> bool:
    """The relevance floor (``keyword_hit``: some candidate holds every query word)."""
    cosine = max(floor.cosine, floor.beside_keyword) if keyword_hit else floor.cosine
    return cand.all_words or cand.cosine >= cosine or (cand.some_word and cand.cosine >= floor.keyword_cosine)


def match_word(cand: Candidate, floor: Floor = FLOOR) -> str:
    return STRONG if cand.all_words or cand.cosine >= floor.strong else WEAK


def fuse(
    cands: list[Candidate], *, limit: int, floor: bool | Floor = True, threshold: float | None = None,
    method: str = "hybrid",
) -> list[MemoryRecord]:
    """Best first: memories holding every query word, then by fused rank; cut by the floor.

    ``threshold`` (the API's, a minimum cosine similarity) replaces the floor when given;
    ``floor=False`` shows everything; a ``Floor`` replaces the tuned one (benchmarks).
    Each record's ``score`` stays its cosine similarity; ``match`` is "strong" or "weak".
    """
    rules = floor if isinstance(floor, Floor) else FLOOR
    if method == "vector":  # the cosine order alone (benchmarks: the search before the hybrid)
        ordered = sorted(cands, key=lambda c: (-c.cosine, c.id))
    else:
        ordered = sorted(cands, key=lambda c: (not c.all_words, -c.rrf, -c.cosine, c.id))
    keyword_hit = any(c.all_words for c in cands)
    chosen: list[Candidate] = []
    for cand in ordered:
        if threshold is not None:
            if cand.cosine < threshold:
                continue
        elif floor is not False and not shown(cand, rules, keyword_hit=keyword_hit):
            continue
        chosen.append(cand)
        if len(chosen) == limit:
            break
    if not chosen:
        return []
    records = chosen[0].load([c.id for c in chosen])
    return [
        replace(records[c.id], score=c.cosine, match=match_word(c, rules)) for c in chosen if c.id in records
    ]
