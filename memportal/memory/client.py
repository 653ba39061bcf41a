"""mem0's hosted-platform client, pointed at a memportal site.

The only reason this lives here: memportal.memory is the one package allowed to import mem0.
Tests (and the demo) use it to drive the real, unmodified ``MemoryClient`` against the API.
"""

from __future__ import annotations

from typing import Any


def platform_client(*, api_key: str, host: str, asynchronous: bool = False) -> Any:
    """A mem0 ``MemoryClient`` (or ``AsyncMemoryClient``) for ``host``; it pings the key at once."""
    from mem0 import AsyncMemoryClient, MemoryClient

    cls = AsyncMemoryClient if asynchronous else MemoryClient
    return cls(api_key=api_key, host=host)


def platform_errors() -> tuple[type[Exception], ...]:
    """The exception classes the client raises for HTTP errors (for tests' pytest.raises)."""
    from mem0.exceptions import MemoryError as Mem0Error

    return (Mem0Error, ValueError)


def platform_client_methods() -> dict[str, list[str]]:
    """The public methods of the installed ``MemoryClient`` and ``AsyncMemoryClient``, including
    their ``project`` namespace (as ``project.<method>``): what the compatibility table must list."""
    import inspect

    from mem0 import AsyncMemoryClient, MemoryClient
    from mem0.client.project import AsyncProject, Project

    def public(cls: type) -> list[str]:
        return sorted(n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_"))

    return {
        "MemoryClient": public(MemoryClient) + [f"project.{n}" for n in public(Project)],
        "AsyncMemoryClient": public(AsyncMemoryClient) + [f"project.{n}" for n in public(AsyncProject)],
    }
