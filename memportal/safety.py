"""Start-up safety rules read by settings: the per-checkout development key and when to refuse.

Kept free of Django settings access (settings import this module) so each rule is a pure
function that tests can call directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

# Hosts that only reach this machine (or Django's test client): DEBUG pages and a development
# key are harmless there. Anything else, "*" included, may be reachable from the network.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})


def host_is_local(host: str) -> bool:
    host = host.strip().lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def settings_refusal(*, debug: bool, dev_key: bool, allowed_hosts: Iterable[str], env: str | None) -> str | None:
    """Why the site must not start with these settings, or None when it may.

    DEBUG pages show settings and tracebacks, and the generated development key lives in a
    file next to the code: both are fine on localhost and dangerous on a public host. An
    operator who really wants them there says so with ``MEMPORTAL_ENV=development``.
    """
    if env == "development" or not (debug or dev_key):
        return None
    public = [h.strip() for h in allowed_hosts if h.strip() and not host_is_local(h)]
    if not public:
        return None
    problems = [p for p, on in (("DEBUG is on", debug),
                                ("the generated development SECRET_KEY is in use", dev_key)) if on]
    return (
        f"memportal refuses to start: {' and '.join(problems)} while DJANGO_ALLOWED_HOSTS allows "
        f"{', '.join(public)}. To deploy, set MEMPORTAL_ENV=production and DJANGO_SECRET_KEY "
        "(DEBUG is then off); to run a development server on these hosts on purpose, set "
        "MEMPORTAL_ENV=development."
    )


def dev_secret_key(path: Path) -> str:
    """This checkout's development SECRET_KEY, generated on first use and kept in ``path``.

    The file is created with mode 0600 and appears complete or not at all: it is written under a
    temporary name and hard-linked into place, which fails if another process (a test worker,
    the dev server's reloader) got there first, and then that process's key is used.
    """
    existing = _read_key(path)
    if existing is not None:
        return existing
    # Imported here: settings load this module before Django is set up.
    from django.core.management.utils import get_random_secret_key

    path.parent.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_key(path) or _empty_key_file(path)
    finally:
        os.unlink(tmp)
    return key


def _read_key(path: Path) -> str | None:
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        return None
    return key or _empty_key_file(path)


def _empty_key_file(path: Path) -> NoReturn:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"{path} is empty: delete it to generate a new development key, or set DJANGO_SECRET_KEY"
    )
