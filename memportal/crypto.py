"""Keyed hashes (for values that must be recognisable but never stored) and signed receipts.

Both keys come from settings (``MEMPORTAL["HASH_KEY"]``, ``MEMPORTAL["RECEIPT_SIGNING_KEY"]``);
without them they are derived from ``SECRET_KEY``, so one secret is enough for a deployment, and
setting them explicitly lets an operator rotate ``SECRET_KEY`` without changing old hashes or
the receipts' public key.

Receipts are signed with Ed25519 rather than an HMAC so that anyone holding the site's public
key (``/receipts/public-key``) can verify a downloaded receipt, not only the operator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

SIGNATURE_ALGORITHM = "Ed25519"


def _secret(name: str, purpose: str) -> bytes:
    configured = settings.MEMPORTAL.get(name) or ""
    if configured:
        return configured.encode()
    return hashlib.sha256(f"memportal:{purpose}:{settings.SECRET_KEY}".encode()).digest()


def keyed_hash(*, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one purpose ("search", "external_id:<app_id>", ...), hex.

    The purpose is part of the message, so equal values under different purposes hash apart.
    """
    return hmac.new(_secret("HASH_KEY", "hash"), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _signing_key() -> Ed25519PrivateKey:
    seed = settings.MEMPORTAL.get("RECEIPT_SIGNING_KEY") or ""
    raw = base64.b64decode(seed) if seed else _secret("", "receipt-signing")
    if len(raw) != 32:
        raise ValueError("MEMPORTAL_RECEIPT_SIGNING_KEY must be 32 bytes, base64-encoded")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64() -> str:
    raw = _signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def canonical_json(data: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_sign(document: dict[str, Any]) -> dict[str, Any]:
    """``{"receipt": document, "signature": {...}}``; the signature covers canonical_json(document)."""
    signature = _signing_key().sign(canonical_json(document))
    return {
        "receipt": document,
        "signature": {
            "algorithm": SIGNATURE_ALGORITHM,
            "public_key": public_key_b64(),
            "value": base64.b64encode(signature).decode(),
        },
    }


def document_verify(signed: Any, *, public_key: str | None = None) -> bool:
    """Whether ``signed`` (as produced by document_sign) is intact and signed by ``public_key``
    (base64; default: this site's own key, never the key written inside the document)."""
    try:
        document, signature = signed["receipt"], signed["signature"]
        if signature.get("algorithm") != SIGNATURE_ALGORITHM:
            return False
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key or public_key_b64()))
        key.verify(base64.b64decode(signature["value"]), canonical_json(document))
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError):
        return False
    return True
