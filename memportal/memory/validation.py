"""Input rules for everything that can reach a mem0 call or filter.

mem0 treats ``"*"`` as "any value" (on some stores it drops the condition entirely), and lists
and dicts as operators; none of those may come from input. Ids match a strict pattern.
"""

from __future__ import annotations

import json
import re
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


def clean_id(value: Any, *, field: str) -> str:
    """A scope id (agent_id, run_id, external user_id): a plain string matching ID_PATTERN."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    text = str(value)
    if text.strip() == "":
        raise InvalidInput(field, "must not be empty")
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
