"""Mounted at /api/v1/ (conf/urls.py)."""

from __future__ import annotations

from django.urls import path

from yiwang.licences.api import views

urlpatterns = [
    path("licences/verify/", views.VerifyView.as_view(), name="api-licences-verify"),
]
