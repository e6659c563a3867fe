from django.db import migrations

ENTRIES = (
    ("risk: release orders queued while the market was closed", "risk.tasks.orders_release_queued", "broker_io"),
    ("risk: drawdown limits that close everything", "risk.tasks.limits_enforce", "default"),
)


def create_entries(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    for name, task, queue in ENTRIES:
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": every_minute,
                "queue": queue,
                "routing_key": queue,
                "expire_seconds": 55,
                "enabled": True,
            },
        )


def remove_entries(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in ENTRIES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entries, remove_entries)]
