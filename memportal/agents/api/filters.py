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

import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from memportal.memory.api_selectors import ANY, MAX_CLAUSES, Cond, Pred
from memportal.memory.errors import InvalidInput
from memportal.memory.validation import RESERVED_METADATA_KEYS, clean_id

KEYS = ("user_id", "agent_id", "run_id", "app_id")
CONDITION_KEYS = frozenset({"created_at", "updated_at", "start_date", "end_date", "metadata", "keywords",
                            "memory_ids", "categories"})
ALL_KEYS = frozenset(KEYS) | CONDITION_KEYS | {"AND", "OR", "NOT"}
MAX_DEPTH = 4
MAX_LIST = 100  # memory_ids / categories / metadata keys per filter
META_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


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
        elif key in KEYS and not (isinstance(value, dict) and set(value) == {"ne"}):
            groups.append(_leaf(key, value, sub, depth))
        elif key in KEYS or key in CONDITION_KEYS or key == "NOT":
            # Not an entity constraint (checked by condition_parse): the scope stays as wide as the
            # rest of this alternative says; the condition narrows it in SQL.
            groups.append([RawClause()])
        else:
            raise InvalidInput(sub, f"unsupported filter: use {', '.join(sorted(ALL_KEYS))}")
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


# --- the condition: every filter, exactly, as a tree for SQL (api_selectors.condition_sql) -------------
def _when(value: Any, field: str, *, end_of_day: bool = False) -> str:
    """An ISO date or datetime -> an aware ISO timestamp (a bare date is UTC midnight, or the day's end)."""
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(field, "must be an ISO 8601 date or date-time string")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "must be an ISO 8601 date or date-time string") from None
    if len(value) == 10:  # a bare date
        when = datetime.combine(date.fromisoformat(value), time.max if end_of_day else time.min)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def _scalar(value: Any, field: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return value
    raise InvalidInput(field, "must be a string, number, boolean or null")


def _entity_pred(key: str, value: Any, field: str, depth: int) -> Any:
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in {"eq", "ne", "in"}:
            raise InvalidInput(field, "supported operators are eq, ne and in (and the value '*')")
        op, inner = next(iter(value.items()))
        if op == "in":
            if not isinstance(inner, list) or not 1 <= len(inner) <= MAX_CLAUSES:
                raise InvalidInput(f"{field}.in", f"must be a list of 1 to {MAX_CLAUSES} ids")
            if any(isinstance(v, dict | list) for v in inner):
                # the scope parser allows one nested "in"; the condition flattens it the same way
                flat: list[Any] = []
                for v in inner:
                    sub = _entity_pred(key, v, f"{field}.in", depth + 1)
                    flat += sub.value if sub.op == "in" else [sub.value]
                return Pred(key, "in", tuple(flat))
            return Pred(key, "in", tuple(clean_id(v, field=f"{field}.in") for v in inner))
        if inner == ANY:
            raise InvalidInput(field, "'*' cannot be combined with eq or ne")
        return Pred(key, op, clean_id(inner, field=field))
    if value == ANY:
        return Pred(key, "any")
    return Pred(key, "eq", clean_id(value, field=field))


def _condition(node: Any, field: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise InvalidInput(field, TOO_DEEP)
    if not isinstance(node, dict) or not node:
        raise InvalidInput(field, "must be a non-empty object")
    items: list[Any] = []
    for key, value in node.items():
        sub = f"{field}.{key}"
        if key in ("AND", "OR"):
            if not isinstance(value, list) or not value:
                raise InvalidInput(sub, "must be a non-empty list of filter objects")
            items.append(Cond(key.lower(), tuple(_condition(v, f"{sub}[{i}]", depth + 1) for i, v in enumerate(value))))
        elif key == "NOT":
            inner = value if isinstance(value, list) else [value]
            if not inner:
                raise InvalidInput(sub, "must be a filter object or a non-empty list of them")
            parts = tuple(_condition(v, f"{sub}[{i}]", depth + 1) for i, v in enumerate(inner))
            items.append(Cond("not", (parts[0] if len(parts) == 1 else Cond("and", parts),)))
        elif key in KEYS:
            items.append(_entity_pred(key, value, sub, depth))
        elif key in ("created_at", "updated_at"):
            if not isinstance(value, dict) or not value or set(value) - {"gt", "gte", "lt", "lte"}:
                raise InvalidInput(sub, "must be an object of gt/gte/lt/lte with ISO dates")
            items += [Pred(key, op, _when(v, f"{sub}.{op}", end_of_day=op in {"lte", "gt"})) for op, v in value.items()]
        elif key == "start_date":
            items.append(Pred("created_at", "gte", _when(value, sub)))
        elif key == "end_date":
            items.append(Pred("created_at", "lte", _when(value, sub, end_of_day=True)))
        elif key == "keywords":
            op, text = ("contains", value) if isinstance(value, str) else (
                next(iter(value.items())) if isinstance(value, dict) and len(value) == 1 else (None, None))
            if op not in {"contains", "icontains"} or not isinstance(text, str) or not 1 <= len(text) <= 500:
                raise InvalidInput(sub, "must be text (1-500 characters) or {contains|icontains: text}")
            items.append(Pred("keywords", op, text))
        elif key == "memory_ids":
            ids = value.get("in") if isinstance(value, dict) and set(value) == {"in"} else value
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_LIST:
                raise InvalidInput(sub, f"must be a list of 1 to {MAX_LIST} memory ids")
            try:
                items.append(Pred("memory_ids", "in", tuple(str(uuid.UUID(str(i))) for i in ids)))
            except ValueError:
                raise InvalidInput(sub, "must hold memory ids (UUIDs)") from None
        elif key == "categories":
            cats = value.get("in", value.get("contains")) if isinstance(value, dict) and len(value) == 1 else value
            if not isinstance(cats, list) or not 1 <= len(cats) <= MAX_LIST or not all(
                    isinstance(c, str) and 1 <= len(c) <= 100 for c in cats):
                raise InvalidInput(sub, f"must be a list of 1 to {MAX_LIST} category names")
            items.append(Pred("categories", "in", tuple(cats)))
        elif key == "metadata":
            if not isinstance(value, dict) or not 1 <= len(value) <= MAX_LIST:
                raise InvalidInput(sub, "must be an object of top-level metadata keys")
            for meta_key, want in value.items():
                where = f"{sub}.{meta_key}"
                if (not isinstance(meta_key, str) or not META_KEY.fullmatch(meta_key)
                        or meta_key in RESERVED_METADATA_KEYS):
                    raise InvalidInput(where, "must be a top-level metadata key (letters, digits, _ and -)")
                if isinstance(want, dict):
                    if len(want) != 1 or next(iter(want)) not in {"eq", "ne", "contains"}:
                        raise InvalidInput(where, "supported operators are eq, ne and contains")
                    op, inner = next(iter(want.items()))
                else:
                    op, inner = "eq", want
                items.append(Pred(f"metadata.{meta_key}", op, _scalar(inner, where)))
        else:
            raise InvalidInput(sub, f"unsupported filter: use {', '.join(sorted(ALL_KEYS))}")
    return items[0] if len(items) == 1 else Cond("and", tuple(items))


def condition_parse(filters: Any, *, top_level: dict[str, Any] | None = None) -> Any:
    """The whole filter as a condition tree (None when there is nothing beyond entity ids, which the
    scope already expresses exactly). ``user_id`` values are still the app's own ids: the view
    maps them to subject ids inside the key's tenant (``condition_resolve``)."""
    parts: list[Any] = []
    if filters is not None:
        parts.append(_condition(filters, "filters", 1))
    for key, value in (top_level or {}).items():
        if value is not None:
            parts.append(_entity_pred(key, value, key, 1))
    if not parts:
        return None
    tree = parts[0] if len(parts) == 1 else Cond("and", tuple(parts))
    return tree if _needs_condition(tree) else None


def _needs_condition(tree: Any) -> bool:
    """Plain entity equality/in/'*' under AND/OR is exactly what the scope clauses say."""
    if isinstance(tree, Pred):
        return not (tree.field in KEYS and tree.op in {"eq", "in", "any"})
    return tree.kind == "not" or any(_needs_condition(item) for item in tree.items)


def condition_map_users(tree: Any, resolve: Any) -> Any:
    """The same tree with every user_id value replaced by ``resolve(external_id)`` (a subject id or None)."""
    if tree is None:
        return None
    if isinstance(tree, Pred):
        if tree.field != "user_id" or tree.op == "any":
            return tree
        if tree.op == "in":
            return Pred("user_id", "in", tuple(resolve(v) for v in tree.value))
        return Pred("user_id", tree.op, resolve(tree.value))
    return Cond(tree.kind, tuple(condition_map_users(item, resolve) for item in tree.items))
