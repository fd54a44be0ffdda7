"""The staff pages of the licences a department issued (list, one licence, its actions), included into the
workbench's URLs."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.workbench import licence_views as views

urlpatterns: list[URLPattern] = [
    path("licences/", views.licences, name="licences"),
    path("licences/<int:pk>/", views.licence, name="licence"),
    path("licences/<int:pk>/suspend/", views.licence_suspend, name="licence_suspend"),
    path("licences/<int:pk>/reinstate/", views.licence_reinstate, name="licence_reinstate"),
    path("licences/<int:pk>/revoke/", views.licence_revoke, name="licence_revoke"),
    path("licences/<int:pk>/reissue/", views.licence_reissue, name="licence_reissue"),
    path("licences/<int:pk>/change/", views.licence_change, name="licence_change"),
]
