from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Alias of `manage.py procrastinate worker`: runs every background task (offboarding, exports, "
            "sweeps, tenant-wide deletes, the nightly audit). Run any number, on any number of hosts.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--concurrency", type=int, default=1, help="Jobs run at once by this worker.")
        parser.add_argument("--name", default=None, help="Worker name (shown in procrastinate's tables).")

    def handle(self, *args, concurrency: int, name: str | None, **options) -> None:
        extra = ["--name", name] if name else []
        call_command("procrastinate", "worker", "--concurrency", str(concurrency), *extra)
