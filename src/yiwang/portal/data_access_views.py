"""谁查看了我的数据 / Who read my data: the access log as the people and enterprises it is about see it.

Like Estonia's data tracker: every read of a person's or enterprise's data through sharing names the department,
the official, the resource and fields, the purpose and the case it was for. Persons only, as the other applicant
pages (``portal.case_views.applicant_page``): the anonymous sign in first, staff accounts are told the page does
not exist — staff are not the subjects of this log. A person sees their own reads and those of each enterprise
they represent or are an agent of (``sharing.log_selectors.data_subjects``); acting for an enterprise opens
that enterprise's reads first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yiwang.identity import acting
from yiwang.portal.case_views import applicant_page
from yiwang.portal.labels import language
from yiwang.sharing import log_selectors
from yiwang.sharing.constants import Outcome, Refusal
from yiwang.sharing.models import AccessRecord

PAGE_SIZE = 25


@dataclass(frozen=True)
class ReadRow:
    record: AccessRecord
    department: str
    resource: str
    fields: list[str]
    answered: bool
    refusal: str


def _rows(records: list[AccessRecord]) -> list[ReadRow]:
    lang = language()
    names = log_selectors.field_names(records, lang)
    rows = []
    for record in records:
        department = record.consumer.display_name(lang) if record.consumer else ""
        resource = record.resource.display_name(lang) if record.resource else ""
        rows.append(
            ReadRow(
                record=record,
                department=department or record.consumer_label,
                resource=resource or record.resource_code,
                fields=[names.get((record.resource_id or 0, str(code)), str(code)) for code in record.fields or []],
                answered=record.outcome == Outcome.ANSWERED,
                refusal=str(Refusal(record.refusal).label) if record.refusal in Refusal.values else record.refusal,
            )
        )
    return rows


@applicant_page
@require_GET
def data_access(request: HttpRequest) -> HttpResponse:
    subjects = log_selectors.data_subjects(request.user)
    keys = {s.key: s for s in subjects}
    chosen = keys.get(str(request.GET.get("subject") or ""))
    if chosen is None:
        agency = acting.current_agency(request)
        acting_key = f"e{agency.enterprise_id}" if agency is not None and agency.enterprise_id else ""
        chosen = keys.get(acting_key) or (subjects[0] if subjects else None)
    include_refused = request.GET.get("refused") == "1"
    records = log_selectors.reads_of([chosen.index] if chosen else [], include_refused=include_refused)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/account/data_access.html",
        {
            "nav": "data_access",
            "subjects": subjects,
            "chosen": chosen,
            "include_refused": include_refused,
            "page": page,
            "rows": _rows(list(page.object_list)),
        },
    )
