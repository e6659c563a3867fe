"""Resolving a reconciliation difference from the API or the admin, with every refusal a field error."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError

from brokers.errors import BrokerError
from trading.models import Discrepancy, DiscrepancyAction
from trading.services.reconcile import discrepancy_resolve
from trading.venues import venue_class


def discrepancy_resolve_checked(
    *, discrepancy: Discrepancy, action: str, user: Any, instance: Any = None
) -> Discrepancy:
    """discrepancy_resolve, with what cannot be done answered as a 400 naming the action and why.

    Differences are found on venues that reconcile only (not the paper broker); a paper account's row (made by hand, or by an older
    version) can only be ignored. A broker that no longer knows the trade or order is the caller's answer too.
    """
    if action != DiscrepancyAction.IGNORE and not venue_class(discrepancy.account.broker).capabilities.reconciles:
        raise ValidationError(
            {
                "action": [
                    f"{action}: account {discrepancy.account_id} is a {discrepancy.account.broker} account; "
                    "only its differences' ignore is possible (its venue is never out of step with the database)"
                ]
            }
        )
    try:
        return discrepancy_resolve(discrepancy=discrepancy, action=action, user=user, instance=instance)
    except (ObjectDoesNotExist, BrokerError) as e:
        raise ValidationError(
            {"action": [f"{action} of difference {discrepancy.pk} is not possible: {type(e).__name__}: {e}"]}
        ) from e
