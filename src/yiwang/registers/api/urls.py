"""Mounted at /api/v1/registers/ (conf/urls.py)."""

from django.urls import re_path

from yiwang.registers.api import views

urlpatterns = [
    # The documented paths have no trailing slash; clients that add one are served too (no redirect for POST).
    re_path(r"^verify/person/?$", views.VerifyPersonView.as_view(), name="api-registers-verify-person"),
    re_path(r"^verify/entity/?$", views.VerifyEntityView.as_view(), name="api-registers-verify-entity"),
]
