"""Per-app controls of a person: "stop this app from reading my memories" (Art. 18 restriction).

"Stop this app from remembering me" (Art. 21) is the existing ``memory_paused``, per membership.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memory", "0005_staff_lookup_indexes")]

    operations = [
        migrations.AddField(
            model_name="membership", name="reads_stopped", field=models.BooleanField(default=False, db_default=False),
        ),
    ]
