from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate

        from trading.models import BrokerAccount, StrategyInstance
        from trading.services.schedule import schedules_sync_receiver

        # Deletes bypass the services (admin, cascades): the bar-close schedule follows them here.
        post_delete.connect(schedules_sync_receiver, sender=StrategyInstance, dispatch_uid="trading.schedule.instance")
        post_delete.connect(schedules_sync_receiver, sender=BrokerAccount, dispatch_uid="trading.schedule.account")
        post_migrate.connect(schedules_sync_receiver, sender=self, dispatch_uid="trading.schedule.migrate")
