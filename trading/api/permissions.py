"""Permissions beyond the default IsAuthenticated."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaffForWrites(BasePermission):
    """Any signed-in user may read; only staff may write (shared reference data such as instruments)."""

    message = "Only staff users may change instruments."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or bool(user.is_staff)
