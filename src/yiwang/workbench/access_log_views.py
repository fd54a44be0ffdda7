"""The data-sharing access log in the workbench.

Auditors (``sharing.audit``) read the whole log and check its hash chain; a department's catalogue managers and
approvers (``sharing.consume`` / ``sharing.provide``) read the reads their department made and those of the
resources it provides. Department B sees nothing of department A's. The chain check walks the whole log, which
takes a while on a big one, so it runs when an auditor presses the button (a POST), not on every page view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.catalogue.models import Organisation
from yiwang.portal.labels import language
from yiwang.sharing import accesslog, log_selectors
from yiwang.sharing.constants import Outcome, Refusal
from yiwang.sharing.models import AccessRecord, Resource
from yiwang.workbench.views import _context, _page, forbidden, staff_page

MAX_CASE_NUMBER = 40  # AccessRecord.case_number


class LogFilterForm(forms.Form):
    consumer = forms.ModelChoiceField(
        label=gettext_lazy("Consumer"), queryset=Organisation.objects.none(), required=False
    )
    resource = forms.ModelChoiceField(label=gettext_lazy("Resource"), queryset=Resource.objects.none(), required=False)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=[("", gettext_lazy("All")), *Outcome.choices], required=False
    )
    refusal = forms.ChoiceField(
        label=gettext_lazy("Reason refused"), choices=[("", gettext_lazy("All")), *Refusal.choices], required=False
    )
    case_number = forms.CharField(label=gettext_lazy("Case number"), max_length=MAX_CASE_NUMBER, required=False)
    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Consumer departments (those the actor may see) and resources: short lists, unlike the log itself.
        consumer_field: Any = self.fields["consumer"]
        consumer_field.queryset = log_selectors.log_consumers(actor)
        resource_field: Any = self.fields["resource"]
        resource_field.queryset = Resource.objects.order_by("code")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> log_selectors.LogFilter:
        data = self.cleaned_data
        return log_selectors.LogFilter(
            consumer=data["consumer"].pk if data.get("consumer") else None,
            resource=data["resource"].pk if data.get("resource") else None,
            outcome=data.get("outcome") or "",
            refusal=data.get("refusal") or "",
            case_number=(data.get("case_number") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _display(records: list[AccessRecord]) -> list[dict[str, Any]]:
    lang = language()
    names = log_selectors.field_names(records, lang)
    rows = []
    for record in records:
        rows.append(
            {
                "record": record,
                "consumer": record.consumer.display_name(lang) if record.consumer else record.consumer_label,
                "resource": record.resource.display_name(lang) if record.resource else record.resource_code,
                "fields": [names.get((record.resource_id or 0, str(c)), str(c)) for c in record.fields or []],
                "refusal": str(Refusal(record.refusal).label) if record.refusal in Refusal.values else record.refusal,
            }
        )
    return rows


@require_http_methods(["GET", "HEAD"])
@staff_page("workbench.enter")
def access_log(request: HttpRequest) -> HttpResponse:
    if not log_selectors.may_read_log(request.user):
        return forbidden(request)
    form = LogFilterForm(request.GET or None, actor=request.user)
    filters = form.filters() if form.is_bound and form.is_valid() else log_selectors.LogFilter()
    page = _page(request, log_selectors.access_log(request.user, filters))
    query = request.GET.copy()
    query.pop("page", None)
    context = _context(
        request,
        "workbench:access_log",
        form=form,
        page=page,
        rows=_display(list(page.object_list)),
        query=query.urlencode(),
        may_check=log_selectors.may_check_chain(request.user),
    )
    return render(request, "workbench/access_log.html", context)


@require_POST
@staff_page(log_selectors.AUDIT)
def access_log_verify(request: HttpRequest) -> HttpResponse:
    report = accesslog.verify_chain()
    if report.broken is None:
        messages.success(request, _("The access log's chain is intact: %(count)d records.") % {"count": report.checked})
    else:
        messages.error(
            request,
            _("The access log's chain is broken at record %(seq)d: %(reason)s.")
            % {"seq": report.broken.seq, "reason": _(accesslog.REASONS[report.broken.reason])},
        )
    return redirect("workbench:access_log")
