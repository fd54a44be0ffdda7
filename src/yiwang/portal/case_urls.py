"""The applicant's case pages (我要办, 我的办件), included into the portal's URLs (namespace ``portal``)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
