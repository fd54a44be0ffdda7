"""Mounted at /api/v1/ (conf/urls.py). docs/api-cases.md describes every endpoint."""

from __future__ import annotations

from django.urls import path

from yiwang.cases.api import views

urlpatterns = [
    # Applicants: cases
    path("cases/", views.CaseListView.as_view(), name="api-cases"),
    path("cases/<str:number>/", views.CaseDetailView.as_view(), name="api-case"),
    path("cases/<str:number>/notices/<str:notice_number>.pdf", views.CaseNoticeView.as_view(), name="api-case-notice"),
    path("cases/<str:number>/withdraw/", views.CaseWithdrawView.as_view(), name="api-case-withdraw"),
    path("cases/<str:number>/resubmit/", views.CaseResubmitView.as_view(), name="api-case-resubmit"),
    # Applicants: an application while it can be edited (a draft, or a case awaiting corrections), by its id
    path("drafts/", views.DraftListView.as_view(), name="api-drafts"),
    path("drafts/<int:pk>/", views.DraftDetailView.as_view(), name="api-draft"),
    path("drafts/<int:pk>/materials/", views.DraftMaterialsView.as_view(), name="api-draft-materials"),
    path("drafts/<int:pk>/materials/<int:slot>/", views.DraftMaterialView.as_view(), name="api-draft-material"),
    path("drafts/<int:pk>/submit/", views.DraftSubmitView.as_view(), name="api-draft-submit"),
    # Staff
    path("staff/tasks/", views.TaskQueueView.as_view(), name="api-staff-tasks"),
    path("staff/tasks/<int:pk>/claim/", views.TaskClaimView.as_view(), name="api-staff-task-claim"),
    path("staff/tasks/<int:pk>/complete/", views.TaskCompleteView.as_view(), name="api-staff-task-complete"),
    path("staff/tasks/<int:pk>/return/", views.TaskReturnView.as_view(), name="api-staff-task-return"),
    path("staff/tasks/<int:pk>/decide/", views.TaskDecideView.as_view(), name="api-staff-task-decide"),
    path("staff/cases/<str:number>/", views.StaffCaseView.as_view(), name="api-staff-case"),
    path(
        "staff/cases/<str:number>/notices/<str:notice_number>.pdf",
        views.StaffCaseNoticeView.as_view(),
        name="api-staff-case-notice",
    ),
    path("staff/cases/<str:number>/correction/", views.CorrectionView.as_view(), name="api-staff-case-correction"),
    path("staff/cases/<str:number>/accept/", views.AcceptView.as_view(), name="api-staff-case-accept"),
    path("staff/cases/<str:number>/refuse/", views.RefuseView.as_view(), name="api-staff-case-refuse"),
    path("staff/cases/<str:number>/procedures/", views.ProcedureStartView.as_view(), name="api-staff-case-procedures"),
    path(
        "staff/cases/<str:number>/procedures/end/",
        views.ProcedureEndView.as_view(),
        name="api-staff-case-procedure-end",
    ),
    path("staff/cases/<str:number>/extend/", views.ExtendView.as_view(), name="api-staff-case-extend"),
    path("staff/cases/<str:number>/deliver/", views.DeliverView.as_view(), name="api-staff-case-deliver"),
    # Supervisors
    path("supervision/records/", views.SupervisionListView.as_view(), name="api-supervision-records"),
    path(
        "supervision/records/<int:pk>/follow-up/",
        views.FollowUpView.as_view(),
        name="api-supervision-follow-up",
    ),
]
