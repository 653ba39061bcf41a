from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from memportal.memory.models import Tenant
from memportal.staff.audit import audit_report


class Command(BaseCommand):
    help = "Nightly audit of one tenant: counts per person, agent and session, and anomalies."

    def add_arguments(self, parser) -> None:
        parser.add_argument("app_id")
        parser.add_argument("--json", action="store_true", help="One JSON document for machines.")

    def handle(self, *args, app_id: str, json: bool, **options) -> None:
        tenant = Tenant.objects.filter(slug=app_id).first()
        if tenant is None:
            raise CommandError(f"No tenant with app_id {app_id!r}.")
        report = audit_report(tenant)
        if json:
            self.stdout.write(_json_dumps(report))
            return
        self.stdout.write(f"Audit of {tenant.slug} at {report['at']}: {report['memories']} memories")
        for title, key in (("Per person", "per_person"), ("Per agent", "per_agent"), ("Per session", "per_session")):
            self.stdout.write(f"\n{title}:")
            for row in report[key]:
                self.stdout.write(f"  {row['count']:>8}  {row['value']}")
        retention = report["retention"]
        self.stdout.write(f"\nMemories older than {retention['days']} days: {retention['memories_older']}")
        self.stdout.write(f"People with memory paused: {report['people_paused']}")
        self.stdout.write(f"Erasures in the last day: {report['erasures_last_day']['total']}")
        anomalies = report["anomalies"]
        self.stdout.write("\nAnomalies:")
        self.stdout.write(
            f"  memories with no app_id (whole table; no tenant query can reach them): "
            f"{anomalies['memories_without_app_id_global']}"
        )
        self.stdout.write(f"  memories of people no longer members: {anomalies['memories_of_non_members']}")
        for row in anomalies["non_member_subjects"]:
            self.stdout.write(f"    {row['count']:>8}  {row['value']}")


def _json_dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
