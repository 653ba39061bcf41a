"""The platform's v2 filters, parsed into a small whitelisted structure.

Request filters never reach mem0 or SQL as such: they become a list of ``RawClause`` (an OR
of ANDs over user_id, agent_id, run_id and app_id, each an id or ``"*"``), which the views
resolve against the key's tenant into ``api_selectors.Clause`` objects. Anything else (other
keys, operators other than ``in``/``eq``, NOT, nesting deeper than 4, counting ``in`` inside
``in``) is a 400. The depth is checked before each descent, so no input can make it recurse far.

What ``"*"`` may mean here (the platform's "any non-null value"), always inside the key's
tenant only: ``user_id: "*"`` = every person the app has named; ``agent_id: "*"`` /
``run_id: "*"`` = memories that have an agent / a run. ``app_id: "*"`` is the key's own tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from memportal.memory.api_selectors import ANY, MAX_CLAUSES
from memportal.memory.errors import InvalidInput
from memportal.memory.validation import clean_id

KEYS = ("user_id", "agent_id", "run_id", "app_id")
MAX_DEPTH = 4


@dataclass(frozen=True)
class RawClause:
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    app_id: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k in KEYS if (v := getattr(self, k)) is not None}


def _merge(a: RawClause, b: RawClause) -> RawClause | None:
    """AND of two clauses; None when they contradict (user a AND user b)."""
    merged = a
    for key in KEYS:
        x, y = getattr(a, key), getattr(b, key)
        if y is None or x == y:
            continue
        if x is None or x == ANY:
            merged = replace(merged, **{key: y})
        elif y == ANY:
            continue
        else:
            return None
    return merged


def _and(groups: list[list[RawClause]]) -> list[RawClause]:
    result = [RawClause()]
    for group in groups:
        combined = []
        for left in result:
            for right in group:
                merged = _merge(left, right)
                if merged is not None and merged not in combined:
                    combined.append(merged)
        if len(combined) > MAX_CLAUSES:
            raise InvalidInput("filters", f"expands to more than {MAX_CLAUSES} alternatives")
        result = combined
    return result


TOO_DEEP = f"nested too deeply (more than {MAX_DEPTH} levels)"


def _leaf(key: str, value: Any, field: str, depth: int) -> list[RawClause]:
    if isinstance(value, dict):
        if set(value) == {"eq"}:
            value = value["eq"]
        elif set(value) == {"in"}:
            # "in" inside "in" recursed without bound (a 3,000-deep one was a RecursionError). One
            # level of "in" below the deepest AND/OR stays allowed, as it always was.
            if depth > MAX_DEPTH:
                raise InvalidInput(f"{field}.in", TOO_DEEP)
            items = value["in"]
            if not isinstance(items, list) or not 1 <= len(items) <= MAX_CLAUSES:
                raise InvalidInput(f"{field}.in", f"must be a list of 1 to {MAX_CLAUSES} ids")
            return [c for item in items for c in _leaf(key, item, f"{field}.in", depth + 1)]
        else:
            raise InvalidInput(field, "supported operators are 'in' and 'eq' (and the value '*')")
    if value == ANY:
        return [RawClause(**{key: ANY})]
    return [RawClause(**{key: clean_id(value, field=field)})]


def _parse(node: Any, field: str, depth: int) -> list[RawClause]:
    if depth > MAX_DEPTH:
        raise InvalidInput(field, TOO_DEEP)
    if not isinstance(node, dict) or not node:
        raise InvalidInput(field, "must be a non-empty object")
    groups: list[list[RawClause]] = []
    for key, value in node.items():
        sub = f"{field}.{key}"
        if key in ("AND", "OR"):
            if not isinstance(value, list) or not value:
                raise InvalidInput(sub, "must be a non-empty list of filter objects")
            parts = [_parse(item, f"{sub}[{i}]", depth + 1) for i, item in enumerate(value)]
            if key == "AND":
                groups.append(_and(parts))
            else:
                union = [c for part in parts for c in part]
                groups.append(list(dict.fromkeys(union)))
        elif key in KEYS:
            groups.append(_leaf(key, value, sub, depth))
        else:
            raise InvalidInput(sub, "unsupported filter: use user_id, agent_id, run_id, app_id, AND, OR")
    return _and(groups)


def filters_parse(filters: Any, *, top_level: dict[str, Any] | None = None) -> list[RawClause]:
    """``filters`` plus any top-level entity ids (older clients send those) -> clauses."""
    groups: list[list[RawClause]] = []
    if filters is not None:
        groups.append(_parse(filters, "filters", 1))
    for key, value in (top_level or {}).items():
        if value is not None:
            groups.append(_leaf(key, value, key, 1))
    if not groups:
        raise InvalidInput("filters", "a user_id (or agent_id / run_id) is required")
    clauses = _and(groups)
    for clause in clauses:
        if clause.user_id is None and clause.agent_id is None and clause.run_id is None:
            raise InvalidInput("filters", "every alternative needs a user_id, agent_id or run_id ('*' allowed)")
    return clauses


def clauses_from_json(data: Any) -> list[RawClause]:
    """Back from what an export request stored (written by ``RawClause.as_json``)."""
    return [RawClause(**{k: v for k, v in item.items() if k in KEYS}) for item in data]
