"""The per-memory read ledger (reads by app keys and staff pages, counted per day)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memory", "0006_app_controls")]

    operations = [
        migrations.CreateModel(
            name="MemoryRead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("memory_id", models.UUIDField()),
                ("subject_id", models.CharField(max_length=40)),
                ("agent_id", models.CharField(blank=True, max_length=128, null=True)),
                ("run_id", models.CharField(blank=True, max_length=128, null=True)),
                ("day", models.DateField()),
                ("via", models.CharField(choices=[("key", "An app key"), ("staff", "Staff")], max_length=8)),
                ("reader", models.CharField(
                    help_text="mpk_<prefix>_ of the key, or the staff member's email (as access records keep it).",
                    max_length=254)),
                ("count", models.PositiveIntegerField(default=0)),
                ("last_at", models.DateTimeField()),
                ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                             to="memory.tenant")),
            ],
            options={
                "ordering": ["-day", "-last_at"],
                "indexes": [models.Index(fields=["tenant", "subject_id"], name="memoryread_scope")],
                "constraints": [models.UniqueConstraint(fields=("memory_id", "day", "via", "reader"),
                                                        name="one_memory_read_row_per_day")],
            },
        ),
    ]
