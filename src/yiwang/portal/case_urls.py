"""The applicant's case pages (我要办, 我的办件), included into the portal's URLs (namespace ``portal``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.portal import case_views

urlpatterns: list[URLPattern] = [
    path("items/<str:code>/apply/", case_views.apply, name="apply"),
    path("my/cases/", case_views.my_cases, name="my_cases"),
    path("my/cases/drafts/<int:pk>/", case_views.draft, name="draft"),
    path("my/cases/drafts/<int:pk>/save/", case_views.draft_save, name="draft_save"),
    path("my/cases/drafts/<int:pk>/submit/", case_views.draft_submit, name="draft_submit"),
    path("my/cases/drafts/<int:pk>/material/", case_views.draft_material, name="draft_material"),
    path("my/cases/drafts/<int:pk>/discard/", case_views.draft_discard, name="draft_discard"),
    path(
        "my/cases/drafts/<int:pk>/materials/<int:material_id>/",
        case_views.draft_material_file,
        name="draft_material_file",
    ),
    path("my/cases/<str:number>/", case_views.case_detail, name="case"),
    path("my/cases/<str:number>/notices/<str:notice_number>.pdf", case_views.notice_pdf, name="notice_pdf"),
    path("my/cases/<str:number>/materials/<int:material_id>/", case_views.material_file, name="material_file"),
    path("my/cases/<str:number>/withdraw/", case_views.withdraw, name="withdraw"),
    path("my/bundles/<str:number>/", case_views.bundle_application, name="bundle_application"),
    path("bundles/", case_views.bundles, name="bundles"),
    path("bundles/<slug:code>/", case_views.bundle, name="bundle"),
]
