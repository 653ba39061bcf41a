# Import provenance: history rows written by an import say so (docs/your-data.md).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('memory', '0008_retention'),
    ]

    operations = [
        migrations.AddField(
            model_name='memoryevent',
            name='source',
            field=models.CharField(blank=True, db_default='', default='', help_text="What wrote the event when not an app or the person's own edit: 'import'.", max_length=20),
        ),
    ]
