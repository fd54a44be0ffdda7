"""材料免提交率 in the workbench: per service item, the share of materials supplied by data sharing or electronic
licences instead of handed in by the applicant (``sharing.measures``). Catalogue managers see their
department's items, supervisors their region's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from yiwang.sharing import measures
from yiwang.workbench.views import _context, forbidden, staff_page


@require_http_methods(["GET", "HEAD"])
@staff_page("workbench.enter")
def once_only(request: HttpRequest) -> HttpResponse:
    if not measures.may_view(request.user):
        return forbidden(request)
    sort = str(request.GET.get("sort") or "-rate")
    if sort not in measures.SORTS:
        sort = "-rate"
    measure = measures.exemption_rates(request.user, sort=sort)
    return render(
        request, "workbench/once_only.html", _context(request, "workbench:once_only", measure=measure, sort=sort)
    )
