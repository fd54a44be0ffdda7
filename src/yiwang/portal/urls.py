"""Public portal pages (mounted at "" under i18n_patterns: Chinese at /, English at /en/)."""

from __future__ import annotations

from django.urls import path

from yiwang.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("items/<str:code>/", views.guide, name="guide"),
    path("items/<str:code>/versions/", views.history, name="history"),
    path("items/<str:code>/versions/<int:number>/", views.version_detail, name="version"),
    path("items/<str:code>/diff/", views.diff, name="diff"),
    path("items/<str:code>/files/<path:reference>", views.attachment, name="file"),
    path("departments/", views.departments, name="departments"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region_detail, name="region"),
]
