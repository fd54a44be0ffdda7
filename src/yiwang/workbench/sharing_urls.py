"""The staff pages of data sharing (catalogue, grants), included into the workbench's URLs."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.workbench import sharing_resource_views as resource_views
from yiwang.workbench import sharing_views as views

urlpatterns: list[URLPattern] = [
    path("sharing/", views.catalogue, name="sharing"),
    path("sharing/catalogue/download/", views.export, name="sharing_export"),
    path("sharing/resources/<int:pk>/", views.resource, name="sharing_resource"),
    path("sharing/resources/new/", resource_views.register, name="sharing_register"),
    path("sharing/resources/<int:pk>/edit/", resource_views.edit, name="sharing_edit"),
    path("sharing/resources/<int:pk>/retire/", resource_views.retire, name="sharing_retire"),
    path("sharing/resources/<int:pk>/request/", views.request_grant, name="sharing_request"),
    path("sharing/requests/", views.inbox, name="sharing_inbox"),
    path("sharing/requests/<int:pk>/", views.grant, name="sharing_grant"),
    path("sharing/requests/<int:pk>/approve/", views.approve, name="sharing_approve"),
    path("sharing/requests/<int:pk>/refuse/", views.refuse, name="sharing_refuse"),
    path("sharing/requests/<int:pk>/revoke/", views.revoke, name="sharing_revoke"),
    path("sharing/grants/", views.mine, name="sharing_mine"),
    path("sharing/grants/<int:pk>/withdraw/", views.withdraw, name="sharing_withdraw"),
]
