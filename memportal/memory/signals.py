"""Signals the memory service sends, so other apps can erase their own copies of memory text."""

from django.dispatch import Signal

#: Sent after an erasure commits. kwargs: ``tenant`` (Tenant), ``subject_id`` (str, or None for
#: a whole tenant). Receivers must remove any copy of that person's memories they keep (exports).
memories_erased = Signal()
