"""Errors the memory service raises; views and the API map each to one status code."""


class MemoryError_(Exception):  # noqa: N801 - avoid shadowing the builtin MemoryError
    """Base class for memory service errors."""


class MemoryNotFound(MemoryError_):
    """The memory does not exist *or* belongs to someone else: callers cannot tell which."""

    def __init__(self) -> None:
        super().__init__("Memory not found.")


class InvalidInput(MemoryError_, ValueError):
    """Input broke a rule (pattern, type, size). Nothing was changed."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class MemoryLocked(MemoryError_):
    """The person stopped this app from remembering them or from reading their memories (HTTP 423).

    Raised only by ``memportal.access`` (and the write lock in ``memory.services``)."""


class MemoryPaused(MemoryLocked):
    """The person stopped this app from remembering them ("pause memory", GDPR Art. 21 objection):
    agents may not write new memories for them."""

    def __init__(self) -> None:
        super().__init__(
            "Memory is paused for this person: new memories are not being saved. "
            "They can resume it from their 'Your data' page."
        )


class MembershipEnded(MemoryError_):
    """The membership was closed (account deleted or tenant offboarded)."""

    def __init__(self) -> None:
        super().__init__("This membership has ended; its memories were erased.")


class ReadsStopped(MemoryLocked):
    """The person stopped this app from reading their memories (GDPR Art. 18 restriction)."""

    def __init__(self) -> None:
        super().__init__(
            "This person stopped this app from reading their memories: nothing about them is returned. "
            "They can resume it from their 'Your data' page."
        )
