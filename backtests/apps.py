from django.apps import AppConfig


class BacktestsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backtests"
    verbose_name = "Backtests"

    def ready(self) -> None:
        # Python strategies load their trained models by id through the framework; the rows live here.
        from backtests.services.artifacts import DatabaseArtifactStore
        from framework.pystrategy.artifacts import set_artifact_store

        set_artifact_store(DatabaseArtifactStore())
