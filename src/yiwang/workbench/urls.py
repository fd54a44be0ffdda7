"""Staff pages, mounted at /workbench/ under i18n_patterns (conf/urls.py)."""

from __future__ import annotations

from django.urls import path

from yiwang.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.home, name="home"),
    path("items/", views.items, name="items"),
    path("persons/", views.persons, name="persons"),
    path("audit/", views.audit, name="audit"),
    path("region/", views.region, name="region"),
]
