"""The staff case pages (queues, case file, actions, walk-in, supervision), included into the workbench's URLs."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.workbench import case_views as views

urlpatterns: list[URLPattern] = [
    path("queue/", views.queue, name="queue"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("cases/", views.cases, name="cases"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/correction/", views.case_correction, name="case_correction"),
    path("cases/<str:number>/accept/", views.case_accept, name="case_accept"),
    path("cases/<str:number>/refuse/", views.case_refuse, name="case_refuse"),
    path("cases/<str:number>/tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("cases/<str:number>/tasks/<int:task_id>/return/", views.task_return, name="task_return"),
    path("cases/<str:number>/tasks/<int:task_id>/decide/", views.task_decide, name="task_decide"),
    path("cases/<str:number>/tasks/<int:task_id>/assign/", views.task_assign, name="task_assign"),
    path("cases/<str:number>/procedure/start/", views.case_procedure_start, name="case_procedure_start"),
    path("cases/<str:number>/procedure/end/", views.case_procedure_end, name="case_procedure_end"),
    path("cases/<str:number>/extend/", views.case_extend, name="case_extend"),
    path("cases/<str:number>/deliver/", views.case_deliver, name="case_deliver"),
    path("cases/<str:number>/materials/<int:material_id>/", views.case_material, name="case_material"),
    path("cases/<str:number>/notices/<str:notice_number>.pdf", views.case_notice, name="case_notice"),
    path("walk-in/", views.walk_in, name="walk_in"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/<int:record_id>/follow-up/", views.supervision_follow_up, name="supervision_follow_up"),
]
