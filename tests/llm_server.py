"""A small OpenAI-compatible chat server on loopback with scripted, deterministic replies.

It answers ``POST /v1/chat/completions`` (what mem0's ``OpenAILLM`` and memportal's assistant
and summary call through the ``openai`` package) by looking at the prompt:

- **fact extraction** (mem0's "Personal Information Organizer" prompt): every ``user:`` line of
  the conversation is one fact, verbatim; assistant and system lines give none.
- **update decision** (mem0's "smart memory manager" prompt), for each new fact:
  identical to a shown memory -> NONE; "Forget that X" -> DELETE the shown memory whose text is X;
  same first two words as a shown memory ("I live in Berlin" / "I live in Paris") -> UPDATE it;
  otherwise ADD.
- **summary** (a system prompt asking for a summary): "Summary: " + the memory lines it was given.

``decisions`` (a callable taking the shown memories and the facts) replaces the update rule, e.g.
with a malicious reply. Every request body is kept in ``requests`` so tests can check what the
model was shown.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Decider = Callable[[list[dict[str, str]], list[str]], list[dict[str, Any]]]


def _blocks(prompt: str) -> list[str]:
    return re.findall(r"```\s*(.*?)\s*```", prompt, re.DOTALL)


def default_decisions(shown: list[dict[str, str]], facts: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, fact in enumerate(facts):
        same = next((m for m in shown if m["text"] == fact), None)
        if same:
            out.append({"id": same["id"], "text": fact, "event": "NONE"})
            continue
        if fact.lower().startswith("forget that "):
            gone = next((m for m in shown if m["text"].lower() == fact[12:].lower()), None)
            if gone:
                out.append({"id": gone["id"], "text": gone["text"], "event": "DELETE"})
            continue
        head = fact.lower().split()[:2]
        similar = next((m for m in shown if m["text"].lower().split()[:2] == head), None)
        if similar:
            out.append({"id": similar["id"], "text": fact, "event": "UPDATE", "old_memory": similar["text"]})
        else:
            out.append({"id": f"new-{n}", "text": fact, "event": "ADD"})
    return out


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.decisions: Decider = default_decisions
        self.fail = False
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def prompts(self, kind: str) -> list[str]:
        """The text of every request of one kind: "facts", "update" or "summary"."""
        return [self._text(r["messages"]) for r in self.requests if self._kind(r["messages"]) == kind]

    @staticmethod
    def _text(messages: list[dict[str, Any]]) -> str:
        return "\n".join(str(m.get("content", "")) for m in messages)

    def _kind(self, messages: list[dict[str, Any]]) -> str:
        text = self._text(messages)
        if "Personal Information Organizer" in text or "Information Organizer" in text:
            return "facts"
        if "smart memory manager" in text:
            return "update"
        if "summar" in str(messages[0].get("content", "")).lower():
            return "summary"
        return "chat"

    def reply(self, body: dict[str, Any]) -> str:
        messages = body["messages"]
        kind, text = self._kind(messages), self._text(messages)
        if kind == "facts":
            conversation = text.split("Input:", 1)[-1]
            facts = [line[len("user: "):].strip() for line in conversation.splitlines() if line.startswith("user: ")]
            return json.dumps({"facts": facts})
        if kind == "update":
            blocks = _blocks(text)
            facts = json.loads(blocks[-1])
            shown = [] if "Current memory is empty" in text else json.loads(blocks[-2])
            return json.dumps({"memory": self.decisions(shown, facts)})
        if kind == "summary":
            lines = [line[2:] for line in str(messages[-1]["content"]).splitlines() if line.startswith("- ")]
            return "Summary: " + "; ".join(lines)
        return "Noted."


def _handler(llm: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            llm.requests.append(body)
            if llm.fail or not self.path.endswith("/chat/completions"):
                self._send(500 if llm.fail else 404, {"error": {"message": "scripted failure"}})
                return
            content = llm.reply(body)
            self._send(200, {
                "id": f"chatcmpl-{len(llm.requests)}", "object": "chat.completion", "created": 0,
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def fake_llm_server() -> Iterator[FakeLLM]:
    llm = FakeLLM()
    llm.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    thread = threading.Thread(target=llm.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield llm
    finally:
        llm.server.shutdown()
        llm.server.server_close()
