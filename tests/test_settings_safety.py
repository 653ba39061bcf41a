"""Safe-by-default settings: a per-checkout development key, and no DEBUG or development key on
a public host unless the operator asked for development explicitly.

The settings module is imported in a fresh interpreter with a chosen environment (a dummy
``DATABASE_URL``, which dj_database_url only parses, so no server is started).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from memportal.safety import dev_secret_key, host_is_local, settings_refusal

BASE_DIR = Path(__file__).resolve().parent.parent
OLD_COMMITTED_KEY = "dev-only-insecure-key-" + "x" * 40
PRINT_SETTINGS = (
    "import json, memportal.settings as s; print(json.dumps({'key': s.SECRET_KEY, 'debug': s.DEBUG,"
    " 'hosts': s.ALLOWED_HOSTS, 'verification': s.ACCOUNT_EMAIL_VERIFICATION}))"
)


def load_settings(data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEMPORTAL_"))}
    clean.update(DATABASE_URL="postgres://nobody:nothing@127.0.0.1:9/none", MEMPORTAL_DATA_DIR=str(data_dir), **env)
    return subprocess.run([sys.executable, "-c", PRINT_SETTINGS], env=clean, cwd=BASE_DIR,
                          capture_output=True, text=True, timeout=60, check=False)


def settings_of(data_dir: Path, **env: str) -> dict:
    result = load_settings(data_dir, **env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(data_dir: Path, **env: str) -> str:
    result = load_settings(data_dir, **env)
    assert result.returncode != 0, f"settings loaded with {env}"
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    return result.stderr


# --- the pure rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "::1", "testserver", "app.localhost",
                                  "LOCALHOST", ".localhost"])
def test_local_hosts(host):
    assert host_is_local(host)


@pytest.mark.parametrize("host", [
    "*", "example.com", ".example.com", "10.0.0.5", "0.0.0.0", "localhost.example.com",  # noqa: S104 - a host name
])
def test_public_hosts(host):
    assert not host_is_local(host)


@pytest.mark.parametrize("debug, dev_key", [(True, False), (False, True), (True, True)])
def test_debug_or_dev_key_on_a_public_host_is_refused(debug, dev_key):
    reason = settings_refusal(debug=debug, dev_key=dev_key, allowed_hosts=["localhost", "example.com"], env=None)
    assert reason is not None
    assert "DJANGO_ALLOWED_HOSTS allows example.com." in reason  # only the public host is named
    assert "MEMPORTAL_ENV=production" in reason and "DJANGO_SECRET_KEY" in reason
    assert "MEMPORTAL_ENV=development" in reason
    assert ("DEBUG is on" in reason) == debug and ("development SECRET_KEY" in reason) == dev_key


@pytest.mark.parametrize("env", [None, "staging", "production"])
def test_a_wildcard_host_counts_as_public(env):
    assert settings_refusal(debug=True, dev_key=False, allowed_hosts=["*"], env=env)


def test_only_local_hosts_keep_the_dev_defaults():
    hosts = ["localhost", "127.0.0.1", "[::1]", "::1", "app.localhost", "testserver", ""]
    assert settings_refusal(debug=True, dev_key=True, allowed_hosts=hosts, env=None) is None


def test_an_explicit_development_setting_allows_public_hosts():
    assert settings_refusal(debug=True, dev_key=True, allowed_hosts=["example.com", "*"], env="development") is None


def test_a_real_key_without_debug_may_serve_public_hosts():
    assert settings_refusal(debug=False, dev_key=False, allowed_hosts=["example.com"], env=None) is None


# --- the development key file ------------------------------------------------------------------


def test_dev_key_is_generated_once_with_mode_0600(tmp_path):
    path = tmp_path / "sub" / "dev-secret-key"
    key = dev_secret_key(path)
    assert len(key) >= 50 and key != OLD_COMMITTED_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secret_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["dev-secret-key"]  # no temporary file left
    assert dev_secret_key(tmp_path / "other" / "dev-secret-key") != key


def test_concurrent_first_uses_agree_on_one_key(tmp_path):
    path = tmp_path / "dev-secret-key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: dev_secret_key(path), range(32)))
    assert keys == {path.read_text().strip()}


# --- the settings module itself ----------------------------------------------------------------


def test_default_settings_use_a_generated_key_kept_in_the_data_dir(tmp_path):
    first = settings_of(tmp_path)
    assert first["debug"] is True and first["verification"] == "none"
    assert first["key"] != OLD_COMMITTED_KEY and len(first["key"]) >= 50
    key_file = tmp_path / "dev-secret-key"
    assert key_file.read_text().strip() == first["key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_of(tmp_path)["key"] == first["key"]
    assert settings_of(tmp_path / "another-checkout")["key"] != first["key"]


def test_local_hosts_keep_working_unchanged(tmp_path):
    loaded = settings_of(tmp_path, DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1,[::1],app.localhost")
    assert loaded["debug"] is True and "app.localhost" in loaded["hosts"]


@pytest.mark.parametrize("env", [
    {"DJANGO_ALLOWED_HOSTS": "example.com"},
    {"DJANGO_ALLOWED_HOSTS": "*"},
    {"DJANGO_ALLOWED_HOSTS": "localhost,memportal.example.org"},
    # a real key is not enough while DEBUG is on
    {"DJANGO_ALLOWED_HOSTS": "example.com", "DJANGO_SECRET_KEY": "k" * 50},
    # DEBUG off is not enough while the development key signs sessions
    {"DJANGO_ALLOWED_HOSTS": "example.com", "DJANGO_DEBUG": "0"},
    {"DJANGO_ALLOWED_HOSTS": "example.com", "MEMPORTAL_ENV": "staging"},
])
def test_the_site_refuses_to_start_on_a_public_host_with_dev_defaults(tmp_path, env):
    stderr = refused(tmp_path, **env)
    assert "refuses to start" in stderr and "MEMPORTAL_ENV=production" in stderr


def test_an_explicit_development_setting_starts_on_a_public_host(tmp_path):
    loaded = settings_of(tmp_path, DJANGO_ALLOWED_HOSTS="example.com", MEMPORTAL_ENV="development")
    assert loaded["debug"] is True and loaded["hosts"] == ["example.com"]


def test_a_real_key_with_debug_off_starts_on_a_public_host(tmp_path):
    loaded = settings_of(tmp_path, DJANGO_ALLOWED_HOSTS="example.com", DJANGO_SECRET_KEY="k" * 50, DJANGO_DEBUG="0")
    assert loaded["key"] == "k" * 50 and not (tmp_path / "dev-secret-key").exists()


def test_production_requires_a_secret_key(tmp_path):
    stderr = refused(tmp_path, MEMPORTAL_ENV="production", DJANGO_ALLOWED_HOSTS="example.com")
    assert "DJANGO_SECRET_KEY must be set" in stderr
    assert not (tmp_path / "dev-secret-key").exists()


def test_production_refuses_debug_on_a_public_host(tmp_path):
    refused(tmp_path, MEMPORTAL_ENV="production", DJANGO_SECRET_KEY="k" * 50, DJANGO_DEBUG="1",
            DJANGO_ALLOWED_HOSTS="example.com")


def test_production_makes_email_verification_mandatory_unless_overridden(tmp_path):
    production = {"MEMPORTAL_ENV": "production", "DJANGO_SECRET_KEY": "k" * 50, "DJANGO_ALLOWED_HOSTS": "example.com"}
    loaded = settings_of(tmp_path, **production)
    assert loaded["debug"] is False and loaded["verification"] == "mandatory"
    assert settings_of(tmp_path, **production, MEMPORTAL_EMAIL_VERIFICATION="optional")["verification"] == "optional"
    assert settings_of(tmp_path, MEMPORTAL_ENV="development")["verification"] == "none"
