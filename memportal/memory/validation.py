"""Input rules for everything that can reach a mem0 call or filter.

mem0 treats ``"*"`` as "any value" (on some stores it drops the condition entirely), and lists
and dicts as operators; none of those may come from input. Ids match a strict pattern.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from .errors import InvalidInput

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$")
ROLES = {"user", "assistant", "system"}
#: Payload keys mem0 or memportal own; caller metadata may not set them.
RESERVED_METADATA_KEYS = frozenset({
    "user_id", "agent_id", "run_id", "app_id", "actor_id", "role", "data", "hash", "created_at",
    "updated_at", "text_lemmatized", "expiration_date", "attributed_to", "memory_type", "id",
})
MAX_METADATA_BYTES = 4096
#: Deepest JSON nesting accepted anywhere (API bodies, metadata). Real requests need about 12
#: (body, filters nested 4 levels, an "in" list); deeper only serves to exhaust a recursive parser.
MAX_JSON_DEPTH = 32

# A UTF-16 surrogate on its own is a valid Python str character (JSON's "\ud800" escape decodes
# to one) but not text: UTF-8 cannot encode it, so psycopg fails mid-query with a 500.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
UNPAIRED_SURROGATE = "contains an unpaired surrogate (a lone \\ud800-\\udfff escape), which is not text"
NOT_FINITE = "is not a finite number (NaN and Infinity cannot be stored)"


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _reject_surrogates(text: str, *, field: str) -> None:
    if has_surrogate(text):
        raise InvalidInput(field, UNPAIRED_SURROGATE)


def json_path(parent: str, key: Any) -> str:
    """``metadata`` + ``mood`` -> ``metadata.mood``; the root has the empty path."""
    return f"{parent}.{key}" if parent else str(key)


def json_nodes(value: Any, *, field: str = "") -> Iterator[tuple[str, Any, int]]:
    """(path, node, depth) for ``value`` and everything inside it, parents first, in document order.

    Iterative on purpose: a nesting deep enough to exhaust Python's stack (RecursionError, a 500)
    is walked like any other, and a consumer that stops at the first problem never expands below it.
    """
    stack: list[tuple[str, Any, int]] = [(field, value, 0)]
    while stack:
        path, node, depth = stack.pop()
        yield path, node, depth
        if isinstance(node, dict):
            stack.extend(reversed([(json_path(path, k), v, depth + 1) for k, v in node.items()]))
        elif isinstance(node, list | tuple):
            stack.extend(reversed([(f"{path}[{i}]", v, depth + 1) for i, v in enumerate(node)]))


def json_node_problem(node: Any, *, depth: int, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why one node of a JSON value cannot be stored (None when it can); ``depth`` 0 is the root."""
    if isinstance(node, str):
        return UNPAIRED_SURROGATE if has_surrogate(node) else None
    if isinstance(node, float):
        return None if math.isfinite(node) else NOT_FINITE
    if isinstance(node, dict | list | tuple):
        if depth >= max_depth:
            return f"is nested too deeply (more than {max_depth} levels)"
        if isinstance(node, dict) and any(isinstance(k, str) and has_surrogate(k) for k in node):
            return f"has a key that {UNPAIRED_SURROGATE}"
    return None


def json_problem(value: Any, *, field: str, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """(path, message) of the first node of ``value`` that cannot be stored, else None."""
    for path, node, depth in json_nodes(value, field=field):
        message = json_node_problem(node, depth=depth, max_depth=max_depth)
        if message is not None:
            return path, message
    return None


def single_param(params: Any, name: str) -> str | None:
    """The one value of ``name`` in a QueryDict (None when absent); given twice is InvalidInput.

    ``QueryDict.get`` silently takes the last value, so ``?agent=a&agent=b`` could show or confirm
    one scope and act on another. Plain dicts (one value per key by construction) work too.
    """
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist is not None else ([params[name]] if name in params else [])
    if len(values) > 1:
        raise InvalidInput(name, "given more than once")
    return values[0] if values else None


def clean_id(value: Any, *, field: str) -> str:
    """A scope id (agent_id, run_id, external user_id): a plain string matching ID_PATTERN."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    text = str(value)
    if text.strip() == "":
        raise InvalidInput(field, "must not be empty")
    _reject_surrogates(text, field=field)  # a clearer answer than the pattern's
    if text == "*" or "*" in text:
        raise InvalidInput(field, "'*' is not allowed here: it would match everyone")
    if not ID_PATTERN.fullmatch(text):
        raise InvalidInput(
            field, "must be 1-128 characters: letters, digits and . _ : @ -, starting with a letter or digit"
        )
    return text


def clean_optional_id(value: Any, *, field: str) -> str | None:
    if value is None:
        return None
    return clean_id(value, field=field)


def clean_external_id(value: Any) -> str:
    return clean_id(value, field="user_id")


def clean_text(value: Any, *, field: str = "text") -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidInput(field, "must not be empty")
    limit = settings.MEMPORTAL["MAX_MEMORY_CHARS"]
    if len(text) > limit:
        raise InvalidInput(field, f"is {len(text)} characters; the limit is {limit}")
    if "\x00" in text:
        raise InvalidInput(field, "must not contain NUL characters")
    _reject_surrogates(text, field=field)
    return text


def clean_query(value: Any) -> str:
    return clean_text(value, field="query")


def clean_messages(value: Any) -> list[dict[str, str]]:
    """A string, one message dict or a list of them -> a list of {role, content[, name]}."""
    if isinstance(value, str):
        return [{"role": "user", "content": clean_text(value, field="messages")}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidInput("messages", "must be a non-empty string or list of {role, content} objects")
    if len(value) > settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]:
        raise InvalidInput("messages", f"at most {settings.MEMPORTAL['MAX_MESSAGES_PER_ADD']} messages per call")
    cleaned = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidInput(f"messages[{i}]", "must be an object with role and content")
        unknown = set(message) - {"role", "content", "name"}
        if unknown:
            raise InvalidInput(f"messages[{i}]", f"unknown fields: {', '.join(sorted(unknown))}")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise InvalidInput(f"messages[{i}].role", "must be user, assistant or system")
        item = {"role": role, "content": clean_text(message.get("content"), field=f"messages[{i}].content")}
        if message.get("name") is not None:
            item["name"] = clean_id(message["name"], field=f"messages[{i}].name")
        cleaned.append(item)
    if all(m["role"] == "system" for m in cleaned):
        raise InvalidInput("messages", "needs at least one user or assistant message")
    return cleaned


def clean_metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("metadata", "must be an object")
    for key in value:
        if not isinstance(key, str) or not key:
            raise InvalidInput("metadata", "keys must be non-empty strings")
        if key in RESERVED_METADATA_KEYS:
            raise InvalidInput(f"metadata.{key}", "is reserved: scope comes from the caller's identity")
    # Before json.dumps: it recurses (RecursionError on deep nesting) and writes NaN, which jsonb
    # refuses; surrogates survive its ASCII escaping and then fail in psycopg.
    problem = json_problem(value, field="metadata")
    if problem is not None:
        raise InvalidInput(*problem)
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("metadata", "must be JSON-serialisable") from exc
    if "\\u0000" in encoded:  # PostgreSQL's jsonb cannot store NUL
        raise InvalidInput("metadata", "must not contain NUL characters")
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise InvalidInput("metadata", f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


# Far beyond any real store (a billion rows at the largest page size), and small enough that
# page * page_size stays a valid PostgreSQL bigint OFFSET instead of a database error.
MAX_PAGE = 1_000_000


def clean_page(page: Any, page_size: Any, *, max_page_size: int = 1000) -> tuple[int, int]:
    try:
        page_i, size_i = int(page), int(page_size)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("page", "page and page_size must be whole numbers") from exc
    if not 1 <= page_i <= MAX_PAGE:
        raise InvalidInput("page", f"must be between 1 and {MAX_PAGE}")
    if not 1 <= size_i <= max_page_size:
        raise InvalidInput("page_size", f"must be between 1 and {max_page_size}")
    return page_i, size_i
