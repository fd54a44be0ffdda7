"""Mounted at /api/v1/sharing/ (conf/urls.py).

The paths have no trailing slash and only that form is served: the signature covers the path, so there is one
spelling of each to sign.
"""

from django.urls import path

from yiwang.sharing.api import views

urlpatterns = [
    path("query", views.QueryView.as_view(), name="api-sharing-query"),
    path("verify", views.VerifyView.as_view(), name="api-sharing-verify"),
    path("keys", views.PlatformKeysView.as_view(), name="api-sharing-keys"),
    path("resources", views.ResourcesView.as_view(), name="api-sharing-resources"),
]
