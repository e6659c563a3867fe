# The bar-close schedule is one periodic task per (account, timeframe), shared by the instances of that pair
# (trading/services/schedule.py). The per-instance tasks of the earlier layout are converted by the idempotent
# schedule sync that runs after every ``migrate`` (post_migrate, trading/apps.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("trading", "0008_bar_natural_primary_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="strategyinstance",
            name="periodic_task",
            field=models.ForeignKey(
                blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="strategy_instances", to="django_celery_beat.periodictask",
            ),
        ),
    ]
