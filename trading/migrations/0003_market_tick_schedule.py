from django.db import migrations


def create_market_tick(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name="market tick (simulated feed + paper accounts)",
        defaults={"task": "trading.tasks.market_tick", "crontab": every_minute, "queue": "default",
                  "expire_seconds": 55, "enabled": True},
    )


def remove_market_tick(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="market tick (simulated feed + paper accounts)").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0002_paper_and_simulated_feed"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_market_tick, remove_market_tick)]
