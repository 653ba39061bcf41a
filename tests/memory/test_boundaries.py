"""Architecture rules that keep isolation true: only memportal/memory imports mem0; no network; no telemetry."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest

from memportal.memory import mem0_backend, services

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".data", "node_modules", ".git", "artifacts"}


def _python_files():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP:
            continue
        yield rel, path


def _imports_mem0(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "mem0" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mem0" and not node.level:
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module", "__import__"
        } and any(isinstance(a, ast.Constant) and str(a.value).split(".")[0] == "mem0" for a in node.args):
            return True
    return False


def test_only_the_memory_service_imports_mem0():
    # examples/ holds app servers' programs, which use the official client: that is the point.
    offenders = [
        str(rel) for rel, path in _python_files()
        if rel.parts[:2] != ("memportal", "memory") and rel.parts[0] != "examples" and _imports_mem0(path.read_text())
    ]
    assert offenders == []


def test_the_import_check_can_fail():
    assert _imports_mem0("from mem0 import Memory")
    assert _imports_mem0("import mem0.client.main as m")
    assert _imports_mem0("importlib.import_module('mem0')")
    assert not _imports_mem0("from memportal.memory import services")


def test_mem0_telemetry_is_off_and_its_folder_is_ours():
    import os

    assert mem0_backend.telemetry_enabled() is False
    assert os.environ["MEM0_TELEMETRY"] == "False"
    assert Path(os.environ["MEM0_DIR"]).resolve().is_relative_to(ROOT / ".data")


def test_the_suite_refuses_outbound_connections():
    with pytest.raises(OSError, match="tried to connect"):
        socket.create_connection(("1.1.1.1", 443), timeout=1)


def test_a_full_memory_lifecycle_makes_no_outbound_connection(owner, monkeypatch):
    attempts: list = []
    real_connect = socket.socket.connect

    def spy(sock, address):
        if not isinstance(address, str | bytes):
            attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    record = services.memory_add(member=owner.member, messages="I am vegetarian", agent_id="chef")[0]
    from memportal.memory import selectors

    selectors.memory_search(member=owner.member, query="food")
    services.memory_update(member=owner.member, memory_id=record.id, text="I am vegan")
    services.memory_delete_all(member=owner.member)
    assert [a for a in attempts if a[0] not in ("127.0.0.1", "::1", "localhost")] == []
