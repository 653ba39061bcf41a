from __future__ import annotations

from django.core.management.base import BaseCommand

from memportal.offboarding.worker import worker_loop


class Command(BaseCommand):
    help = "Process offboarding and background export jobs from the PostgreSQL queue (run alongside the web server)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--throttle", type=float, default=0.0,
                            help="Seconds to pause between erase batches (spares the database).")
        parser.add_argument("--max-jobs", type=int, default=None, help="Exit after this many jobs (tests).")

    def handle(self, *args, poll: float, max_jobs: int | None, throttle: float, **options) -> None:
        self.stdout.write(f"offboarding_worker: polling every {poll}s")
        self.stdout.flush()
        worker_loop(poll_seconds=poll, max_jobs=max_jobs, pause_seconds=throttle)
