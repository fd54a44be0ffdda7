"""Staff pages, mounted at /workbench/ under i18n_patterns (conf/urls.py)."""

from __future__ import annotations

from django.urls import path

from yiwang.notifications import views as notification_views
from yiwang.workbench import access_log_views, case_urls, licence_urls, once_only_views, sharing_urls, views

app_name = "workbench"
urlpatterns = [
    path("", views.home, name="home"),
    path("items/", views.items, name="items"),
    path("persons/", views.persons, name="persons"),
    path("audit/", views.audit, name="audit"),
    path("region/", views.region, name="region"),
    path("sharing/log/", access_log_views.access_log, name="access_log"),
    path("sharing/log/verify/", access_log_views.access_log_verify, name="access_log_verify"),
    path("sharing/once-only/", once_only_views.once_only, name="once_only"),
    path("messages/", notification_views.workbench_messages, name="messages"),
    path("messages/read/", notification_views.workbench_mark_read, name="messages_read"),
    *case_urls.urlpatterns,
    *licence_urls.urlpatterns,
    *sharing_urls.urlpatterns,
]
