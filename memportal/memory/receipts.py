"""Erasure receipts as documents: what the person (or an admin) can download and verify later.

The document holds no memory text and no identifier of the person beyond the receipt's own id
and their opaque subject id: scope, times, and one line per store of the erasure registry with
what was erased there and what the independent recount found.
"""

from __future__ import annotations

from typing import Any

from memportal.crypto import document_sign

from .models import ErasureReceipt

DOCUMENT_FORMAT = "memportal.erasure-receipt/1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def receipt_document(*, receipt: ErasureReceipt) -> dict[str, Any]:
    return {
        "format": DOCUMENT_FORMAT,
        "id": str(receipt.pk),
        "app_id": receipt.tenant.slug,
        "kind": receipt.kind,
        "scope": {
            "subject": receipt.membership.subject_id if receipt.membership_id else None,
            "agent_id": receipt.agent_id or None,
            "run_id": receipt.run_id or None,
            "memory_id": str(receipt.memory_id) if receipt.memory_id else None,
            # Delete by date and auto-delete: memories saved in [range_start, range_end).
            "range_start": _iso(receipt.range_start),
            "range_end": _iso(receipt.range_end),
        },
        "requested_via": receipt.requested_via,
        "started_at": _iso(receipt.started_at),
        "finished_at": _iso(receipt.finished_at),
        "verified_at": _iso(receipt.verified_at),
        "verified": receipt.verified,
        "stores": [
            {"store": line.store, "label": line.label, "erased": line.erased, "remaining": line.remaining}
            for line in receipt.lines.all()
        ],
        "remaining_total": receipt.remaining_after if receipt.verified_at else None,
    }


def receipt_document_signed(*, receipt: ErasureReceipt) -> dict[str, Any]:
    return document_sign(receipt_document(receipt=receipt))
