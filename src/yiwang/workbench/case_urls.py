"""The staff case pages (queues, case file, actions, walk-in, supervision), included into the workbench's URLs."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
