from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from memportal.memory.models import Tenant
from memportal.offboarding import services
from memportal.offboarding.models import OffboardingJob


def _bar(percent: int, width: int = 40) -> str:
    filled = width * percent // 100
    return "[" + "#" * filled + "-" * (width - filled) + f"] {percent:3d}%"


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """"1 memory", "2 memories" (never "1 memories")."""
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


class Command(BaseCommand):
    help = "Erase every memory of a tenant (app_id) in this process, with a progress bar and a receipt."

    def add_arguments(self, parser) -> None:
        parser.add_argument("app_id")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--keep-memberships", action="store_true",
                            help="Erase memories but leave memberships open.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, app_id: str, yes: bool, keep_memberships: bool, batch_size: int, **options) -> None:
        tenant = Tenant.objects.filter(slug=app_id).first()
        if tenant is None:
            raise CommandError(f"No tenant with app_id {app_id!r}.")
        dry = services.offboarding_dry_run(tenant=tenant)
        self.stdout.write(
            f"{tenant.slug}: {_n(dry.memories, 'memory', 'memories')} of "
            f"{_n(dry.people_with_memories, 'person', 'people')}, {_n(dry.history_rows, 'history row')}, "
            f"{_n(dry.message_rows, 'message row')}, {_n(dry.export_files, 'export file')}, "
            f"{_n(dry.memberships_active, 'active membership')}."
        )
        if not yes:
            answer = input(f"Type the app_id ({tenant.slug}) to erase all of it: ")
            if answer.strip() != tenant.slug:
                raise CommandError("Confirmation did not match; nothing was erased.")
        action = OffboardingJob.Memberships.KEEP if keep_memberships else OffboardingJob.Memberships.END
        job = services.offboarding_start(tenant=tenant, via="cli", memberships_action=action, batch_size=batch_size)

        def progress(j: OffboardingJob) -> None:
            self.stdout.write(f"\r{_bar(j.percent)} {j.memories_erased}/{j.memories_before}", ending="")
            self.stdout.flush()

        job = services.offboarding_run(job=job, progress=progress)
        if job.state == OffboardingJob.State.RUNNING:
            raise CommandError(f"Job {job.pk} is being run by worker {job.worker}; not running it twice.")
        self.stdout.write(f"\r{_bar(job.percent)} {job.memories_erased}/{job.memories_before}")
        self.stdout.write(
            f"{job.get_state_display()}: erased {_n(job.memories_erased, 'memory', 'memories')}, "
            f"{_n(job.history_rows_erased, 'history row')}, "
            f"{_n(job.message_rows_erased, 'message row')}, {_n(job.export_files_erased, 'export file')}; "
            f"{_n(job.memberships_ended, 'membership')} ended. Verification: {job.verification.get('checks')}. "
            f"Receipt {job.erasure_receipt_id}."
        )
        if job.state != OffboardingJob.State.DONE:
            raise CommandError("Verification failed: rows remain.")
