"""Mounted at /api/v1/ (conf/urls.py)."""

from __future__ import annotations

from django.urls import path

from yiwang.identity.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/agencies/", views.MyAgenciesView.as_view(), name="api-me-agencies"),
    path("staff/persons/", views.PersonLookupView.as_view(), name="api-staff-persons"),
    path("audit/", views.AuditLogView.as_view(), name="api-audit"),
]
