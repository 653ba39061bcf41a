"""The official TypeScript SDK (mem0ai 3.3.1 from npm, run with node) against a live memportal.

tests/js holds the pinned package (bin/test runs ``npm ci`` there); this test is skipped with a
clear reason when node or the package is missing. The SDK's telemetry is off (MEM0_TELEMETRY=false)
and the suite refuses any connection that is not loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from memportal.agents.services import appkey_create
from memportal.memory.models import MemoryFeedback
from tests.factories import tenant

JS = Path(__file__).resolve().parents[1] / "js"
pytestmark = pytest.mark.django_db(transaction=True)


def _run(host: str, key: str, foreign: str) -> dict[str, dict]:
    if shutil.which("node") is None or not (JS / "node_modules" / "mem0ai").exists():
        pytest.skip("node and tests/js/node_modules (npm ci --prefix tests/js) are needed")
    env = {**os.environ, "MEM0_TELEMETRY": "false", "NODE_NO_WARNINGS": "1"}
    done = subprocess.run(["node", str(JS / "client_methods.mjs"), host, key, foreign], capture_output=True,
                          text=True, timeout=120, env=env, cwd=JS)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    return {line["method"]: line for line in lines}


def test_every_typescript_method_works_or_answers_a_documented_json_error(live_server):
    key = appkey_create(tenant=tenant("concierge_app"), name="ts")[1]
    other = appkey_create(tenant=tenant("sports_brand_portal"), name="other")[1]
    from django.test import Client

    foreign = Client().post("/v3/memories/add/", {"messages": [{"role": "user", "content": "Jane's secret"}],
                                                  "user_id": "jane", "infer": False},
                            content_type="application/json", headers={"Authorization": f"Token {other}"}
                            ).json()["results"][0]["id"]
    results = _run(live_server.url, key, foreign)
    works = ["ping", "add", "add_second", "getAll", "search", "get", "update", "history", "feedback", "batchUpdate",
             "users", "getProject", "createMemoryExport", "delete", "batchDelete", "deleteAll", "getAll_after",
             "createWebhook", "getWebhooks", "updateWebhook", "deleteWebhook", "getWebhooks_after"]
    for method in works:
        assert results[method]["ok"], (method, results[method])
    assert {m["memory"] for m in results["getAll"]["result"]["results"]} == {
        "Dana prefers aisle seats", "Dana likes green tea"}
    assert results["getAll_after"]["result"]["results"] == []
    refused = ["get_foreign", "updateProject", "getProfile", "deleteUsers_no_args", "createWebhook_bad_url"]
    for method in refused:
        assert not results[method]["ok"] and not results[method]["html"], (method, results[method])
    assert "Jane" not in json.dumps(results)
    assert "profiles" in results["getProfile"]["error"] and "url" in results["createWebhook_bad_url"]["error"]
    hook = results["createWebhook"]["result"]
    assert hook["secret"].startswith("whsec_") and hook["project"] == "concierge_app"
    assert [h["webhookId"] for h in results["getWebhooks"]["result"]] == [hook["webhookId"]]  # the SDK camelCases
    assert results["updateWebhook"]["result"]["eventTypes"] == ["memory_update"]
    assert results["getWebhooks_after"]["result"] == []
    assert "tenant-admin" in results["deleteUsers_no_args"]["error"]
    assert results["update"]["result"]["memory"] == "Dana prefers window seats"
    assert MemoryFeedback.objects.count() == 0  # erased with Dana's memories
