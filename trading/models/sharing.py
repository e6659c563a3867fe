from __future__ import annotations

from django.conf import settings
from django.db import models

from trading.models.accounts import BrokerAccount


class AccountRole(models.TextChoices):
    """What a user may do on an account (see trading.permissions for the actions of each role)."""

    OWNER = "owner", "Owner"
    TRADER = "trader", "Trader"
    VIEWER = "viewer", "Viewer"


SHARED_ROLES = [(AccountRole.TRADER.value, "Trader"), (AccountRole.VIEWER.value, "Viewer")]


class AccountShare(models.Model):
    """An account shared with another user in a role below owner (the owner is ``BrokerAccount.owner``)."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_shares")
    role = models.CharField(max_length=8, choices=SHARED_ROLES)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "user"]
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="unique_account_share")]

    def __str__(self) -> str:
        return f"{self.account_id} shared with {self.user_id} as {self.role}"
