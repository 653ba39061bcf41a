"""Which sentences of a chat message are statements worth remembering, when no LLM extracts facts.

A message like "I am vegetarian. Can you suggest a dinner place tonight?" holds one fact about
the person and one request to the assistant. Without a language model mem0 would store the whole
message as a memory; the assistant stores only the statements. A plain heuristic (sentence ends
with "?", or opens like a question or a request), deliberately on the side of storing less.
"""

from __future__ import annotations

import re

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_OPENERS = (
    # questions
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is", "are", "am", "was", "were",
    "do", "does", "did", "can", "could", "would", "will", "shall", "should", "may", "might", "have", "has",
    "any", "anything",
    # requests to the assistant
    "please", "pls", "suggest", "recommend", "tell", "show", "find", "give", "help", "book", "search",
    "look", "list", "remind", "let's", "lets", "i'd like you", "i want you", "i need you",
)
_OPENER = re.compile(r"^(?:" + "|".join(re.escape(o) for o in _OPENERS) + r")\b", re.IGNORECASE)


def is_statement(sentence: str) -> bool:
    s = sentence.strip().strip("\"'“”‘’").strip()
    if not s or s.endswith("?"):
        return False
    return not _OPENER.match(s)


def statements_only(message: str) -> str:
    """The message's statements, in order ("" when it is only questions and requests)."""
    kept = [m.group(0).strip() for m in _SENTENCES.finditer(message) if is_statement(m.group(0))]
    return " ".join(k for k in kept if k)
