# Written by hand (Django 6.1.3): the table behind the API's atomic rate-limit counter.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiRateWindow',
            fields=[
                ('pk', models.CompositePrimaryKey('key', 'window_start', blank=True, editable=False, primary_key=True, serialize=False)),
                ('window_start', models.DateTimeField()),
                ('hits', models.PositiveIntegerField(default=0)),
                ('key', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agents.appkey')),
            ],
        ),
    ]
