"""examples/agent.py, the app server's agent with only host= changed, runs against a live server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memportal.agents.services import appkey_create
from memportal.memory.models import ErasureReceipt
from tests.factories import tenant

AGENT = Path(__file__).resolve().parents[2] / "examples" / "agent.py"
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_example_agent_runs_against_memportal_and_keeps_people_apart(live_api):
    key = appkey_create(tenant=tenant("concierge_app"), name="example agent")[1]
    env = {**os.environ, "MEMPORTAL_HOST": live_api, "MEM0_API_KEY": key, "MEM0_TELEMETRY": "False"}
    done = subprocess.run([sys.executable, str(AGENT)], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert out["connected to project"] == "concierge_app"
    assert out["added for alice"] == "[('ADD', 'I am vegetarian')]"  # not the assistant's line
    assert out["inference"] == "skipped"
    assert out["search alice"] == "['I am vegetarian']"
    assert out["search bob"] == "['I always want a window seat on flights']"
    assert out["after update"] == "I am vegan"
    assert out["history"] == "['ADD', 'UPDATE']"
    assert out["alice after delete_all"] == "[]"
    assert out["bob after alice's delete_all"] == "['I always want a window seat on flights']"
    assert out["bob after closing his session"] == "[]"
    assert ErasureReceipt.objects.filter(requested_via="api").count() == 3
