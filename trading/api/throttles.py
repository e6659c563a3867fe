"""API throttling per user and per anonymous address, with the rates read from settings at each request
(ASIRIKUY_THROTTLE_USER / ASIRIKUY_THROTTLE_ANON; an empty rate turns that throttle off)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None
