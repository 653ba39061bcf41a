"""Inference with the configured language model: facts from a conversation, then one decision per
fact (ADD, UPDATE, DELETE or NONE) against the person's own related memories.

mem0 2.2.1's ``Memory.add(infer=True)`` only ever adds (its V3 pipeline has no update or delete
step), so memportal runs the classic two-step mem0 pipeline itself, with mem0's own prompts
(``get_fact_retrieval_messages``, ``get_update_memory_messages``) and mem0's own LLM class
(``Memory.llm``, configured by ``MEMPORTAL_LLM``). This module only talks to the model; the
service (``services.memory_remember``) searches and writes, owner-checked, in one transaction.

Why the model never sees or names a real memory id: the related memories are shown to it as
"0", "1", … and only those numbers are mapped back, to memories found by a search confined to
the person in SQL (``selectors.memory_search``). An id the model makes up, or a real id of
someone else's memory, maps to nothing and is ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mem0.configs.prompts import get_update_memory_messages
from mem0.memory.utils import extract_json, get_fact_retrieval_messages, parse_messages, remove_code_blocks

from .errors import LanguageModelFailed
from .mem0_backend import get_memory

logger = logging.getLogger(__name__)

EVENTS = frozenset({"ADD", "UPDATE", "DELETE", "NONE"})
JSON_REPLY = {"type": "json_object"}


@dataclass(frozen=True)
class Decision:
    """One line of the model's answer: ``ref`` is the number it was shown ("0", "1", …) or its own
    new id for an ADD; ``text`` may be anything (the service validates it)."""

    event: str
    ref: str
    text: Any


def _ask(messages: list[dict[str, str]], what: str) -> dict[str, Any]:
    try:
        reply = get_memory().llm.generate_response(messages=messages, response_format=JSON_REPLY)
    except Exception as exc:  # transport, auth, timeouts: the caller gets a 502, nothing is stored
        raise LanguageModelFailed(f"{what}: {type(exc).__name__}") from exc
    try:
        text = remove_code_blocks(reply or "")
        parsed = json.loads(extract_json(text), strict=False) if text.strip() else {}
    except (TypeError, ValueError) as exc:
        raise LanguageModelFailed(f"{what}: the answer was not JSON") from exc
    if not isinstance(parsed, dict):
        raise LanguageModelFailed(f"{what}: the answer was not a JSON object")
    return parsed


def facts_extract(*, messages: Sequence[dict[str, str]], limit: int) -> list[str]:
    """The facts the model finds in the conversation (system lines are not shown to it)."""
    conversation = parse_messages([m for m in messages if m["role"] != "system"])
    system, user = get_fact_retrieval_messages(conversation)
    facts = _ask([{"role": "system", "content": system}, {"role": "user", "content": user}], "fact extraction")
    found = facts.get("facts", [])
    if not isinstance(found, list):
        raise LanguageModelFailed("fact extraction: 'facts' was not a list")
    unique = list(dict.fromkeys(f.strip() for f in found if isinstance(f, str) and f.strip()))
    return unique[:limit]


def decisions_get(*, existing: Sequence[str], facts: Sequence[str]) -> list[Decision]:
    """The model's decision for each fact, given the related memories numbered "0", "1", …"""
    shown = [{"id": str(n), "text": text} for n, text in enumerate(existing)]
    prompt = get_update_memory_messages(json.dumps(shown, ensure_ascii=False) if shown else [],
                                        json.dumps(list(facts), ensure_ascii=False))
    answer = _ask([{"role": "user", "content": prompt}], "memory update")
    items = answer.get("memory", [])
    if not isinstance(items, list):
        raise LanguageModelFailed("memory update: 'memory' was not a list")
    decisions = []
    for item in items:
        if not isinstance(item, dict) or item.get("event") not in EVENTS:
            logger.warning("Ignoring a malformed decision from the language model")
            continue
        decisions.append(Decision(event=item["event"], ref=str(item.get("id", "")), text=item.get("text")))
    return decisions
