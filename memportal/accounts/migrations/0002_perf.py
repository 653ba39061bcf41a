"""The data-version table behind the per-person page cache (memportal/memory/versions.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_cache_table")]
    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("token", models.UUIDField()),
            ],
            options={"db_table": "memportal_data_version"},
        ),
    ]
