from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from memportal.memory import tenant_selectors
from memportal.memory.models import Membership, Tenant


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


def audit_report(tenant: Tenant) -> dict:
    labels = tenant_selectors.tenant_people_labels(tenant=tenant)
    active = set(Membership.objects.filter(tenant=tenant, ended_at__isnull=True).values_list("subject_id", flat=True))

    def rows(key: str) -> list[dict]:
        return [{"value": c.value, "count": c.count}
                for c in tenant_selectors.tenant_scope_counts(tenant=tenant, key=key)]

    per_person = [
        {**row, "label": labels.get(row["value"], ""), "member": row["value"] in active} for row in rows("user_id")
    ]
    orphans = tenant_selectors.tenant_orphan_counts(tenant=tenant)
    return {
        "app_id": tenant.slug,
        "at": timezone.now().isoformat(),
        "memories": tenant_selectors.tenant_memory_count(tenant=tenant),
        "per_person": per_person,
        "per_agent": rows("agent_id"),
        "per_session": rows("run_id"),
        "anomalies": {
            "memories_without_app_id_global": tenant_selectors.memories_without_app_id_count(),
            "memories_of_non_members": sum(o.count for o in orphans),
            "non_member_subjects": [{"value": o.value, "count": o.count} for o in orphans],
        },
    }
