"""Verify a downloaded erasure receipt: ``python manage.py receipt_verify receipt.json``.

Checks the Ed25519 signature over the receipt against this site's public key (or the one given
with ``--public-key``, e.g. copied from ``/receipts/public-key`` of the site that issued it),
never against the key written inside the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from memportal.crypto import document_verify, public_key_b64


class Command(BaseCommand):
    help = "Verify the signature of a downloaded erasure receipt (signed JSON)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The receipt file (memportal-receipt-<id>.json)")
        parser.add_argument("--public-key", help="The issuing site's public key (base64); default: this site's")

    def handle(self, *args, path: str, public_key: str | None = None, **options) -> None:
        try:
            signed = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        key = public_key or public_key_b64()
        if not document_verify(signed, public_key=key):
            raise CommandError("INVALID: the signature does not match (the file was changed, or another key signed it)")
        receipt = signed["receipt"]
        self.stdout.write(
            f"VALID: receipt {receipt.get('id')} ({receipt.get('kind')} in {receipt.get('app_id')}), "
            f"verified={receipt.get('verified')}, remaining={receipt.get('remaining_total')}, "
            f"signed by {key}"
        )
