"""The licence wallet's pages (我的证照) and the public share page.

Wallet pages are for persons only, as the applicant's case pages are (``portal.case_views.applicant_page``): the
anonymous are sent to sign in, staff accounts are told the page does not exist. Every read goes through
``licences.wallet`` (scoped to the holders the person answers for), every write is one ``licences.sharing`` call, so
another holder's licence is simply "not found".

The share page (``/licences/s/<token>/``) is for anyone holding the link: it shows the licence as printed with the
annotation of its copy (加注件), and the sealed annotated PDF. A link that is unknown says so with 404; one that
expired, was withdrawn, or whose licence is no longer valid, with 410 — and neither shows anything of the licence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from yiwang.common.errors import DomainError, InvalidInput, NotFound
from yiwang.common.masking import mask_id_number
from yiwang.identity.services import client_ip
from yiwang.licences import issuance, sharing, wallet
from yiwang.licences.constants import HolderKind, Verdict
from yiwang.licences.models import Licence, LicenceShare
from yiwang.portal.account_forms import show_domain_error
from yiwang.portal.case_views import applicant_page
from yiwang.portal.labels import is_chinese, language
from yiwang.portal.views import not_found

PAGE_SIZE = 25
NEW_SHARE_KEY = "licences:new-share"  # the session slot that lets the detail page show a new link's URL once

# Colour classes of the portal's status badges (portal.css): always with the words, never colour alone.
STATUS_CLASS = {
    Verdict.VALID: "status-in_force",
    Verdict.SUSPENDED: "status-pending",
    Verdict.REVOKED: "status-revoked",
    Verdict.EXPIRED: "status-expired",
    Verdict.SUPERSEDED: "status-expired",
}


def _user(request: HttpRequest) -> User:
    # Only called behind login_required: a signed-in auth.User.
    return cast(User, request.user)


def _type_name(licence: Licence) -> str:
    licence_type = licence.licence_type
    return licence_type.name_en if not is_chinese() and licence_type.name_en else licence_type.name


def _data_rows(licence: Licence) -> list[tuple[str, str]]:
    """The type's own fields of the licence, labelled in the page's language, in the layout's order."""
    fields = {str(f["key"]): f for f in licence.licence_type.fields}
    keys = (licence.licence_type.layout or {}).get("rows") or list(fields)
    english = not is_chinese()
    rows = []
    for key in keys:
        field = fields.get(str(key), {})
        label = str((english and field.get("label_en")) or field.get("label") or key)
        rows.append((label, str((licence.data or {}).get(key, ""))))
    return rows


@dataclass(frozen=True)
class LicenceRow:
    licence: Licence
    state: str
    state_label: str
    state_class: str
    type_name: str
    issuer_name: str
    is_organisation: bool


def _row(licence: Licence) -> LicenceRow:
    state = wallet.state_of(licence)
    return LicenceRow(
        licence=licence,
        state=str(state),
        state_label=str(state.label),
        state_class=STATUS_CLASS[state],
        type_name=_type_name(licence),
        issuer_name=licence.issuer.display_name(language()),
        is_organisation=licence.holder_kind == HolderKind.ORGANISATION,
    )


# --- the wallet ---------------------------------------------------------------------------------------


@applicant_page
@require_GET
def wallet_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = str(request.GET.get("status") or "")
    try:
        licences = wallet.wallet(user, status=status or None)
    except InvalidInput as exc:
        messages.error(request, str(exc.message))
        status, licences = "", wallet.wallet(user)
    page = Paginator(licences, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "licences/wallet/list.html",
        {
            "nav": "licences",
            "page": page,
            "rows": [_row(licence) for licence in page.object_list],
            "status": status,
            "filters": [(str(v), str(v.label)) for v in wallet.FILTERS],
        },
    )


class ShareForm(forms.Form):
    """The shape of a share request; the service judges the values (and says why in its own words)."""

    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        max_length=sharing.MAX_TEXT,
        help_text=gettext_lazy("Printed on the copy, e.g. “opening a bank account”."),
    )
    recipient = forms.CharField(
        label=gettext_lazy("Shared with"),
        max_length=sharing.MAX_TEXT,
        required=False,
        help_text=gettext_lazy("Who receives the link, for your own records."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days the link lasts"),
        min_value=sharing.MIN_DAYS,
        max_value=sharing.MAX_DAYS,
        initial=sharing.DEFAULT_DAYS,
        # A text box with a numeric keypad: the portal styles text inputs, and browsers' spinners help nobody here.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


@dataclass(frozen=True)
class ShareRow:
    share: LicenceShare
    url: str
    state: str  # active | expired | withdrawn
    state_label: str
    state_class: str


def _share_rows(user: User, licence: Licence) -> list[ShareRow]:
    now = timezone.now()
    rows = []
    for share in wallet.shares_of(user, licence):
        if share.revoked_at is not None:
            state, label, css = "withdrawn", _("Withdrawn"), "status-revoked"
        elif share.expires_at <= now:
            state, label, css = "expired", _("Expired"), "status-expired"
        else:
            state, label, css = "active", _("Active"), "status-in_force"
        rows.append(ShareRow(share, sharing.share_url(share.token) if state == "active" else "", state, label, css))
    return rows


def _render_detail(request: HttpRequest, licence: Licence, form: ShareForm, status: int = 200) -> HttpResponse:
    user = _user(request)
    new_share_id = request.session.pop(NEW_SHARE_KEY, None)
    shares = _share_rows(user, licence)
    row = _row(licence)
    return render(
        request,
        "licences/wallet/detail.html",
        {
            "nav": "licences",
            "row": row,
            "licence": licence,
            "data_rows": _data_rows(licence),
            # Numbers that identify a person are masked on every page (portal.account_views), the holder's own
            # included; the sealed file carries the full number for whoever the holder gives it to.
            "holder_code": mask_id_number(licence.holder_code)
            if licence.holder_kind == HolderKind.PERSON
            else licence.holder_code,
            "versions": [(v, _row_state(v)) for v in wallet.versions(user, licence)],
            "shares": shares,
            "new_share": next((s for s in shares if s.share.pk == new_share_id and s.url), None),
            "can_share": row.state == Verdict.VALID,
            "form": form,
            "max_days": sharing.MAX_DAYS,
        },
        status=status,
    )


def _row_state(licence: Licence) -> tuple[str, str]:
    state = wallet.state_of(licence)
    return str(state.label), STATUS_CLASS[state]


@applicant_page
@require_GET
def licence_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        licence = wallet.licence_for_holder(_user(request), pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    return _render_detail(request, licence, ShareForm())


@applicant_page
@require_GET
def licence_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The sealed licence as issued (the exact bytes its digest names), as a download."""
    try:
        licence = wallet.licence_for_holder(_user(request), pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    try:
        handle = licence.file.open("rb")
    except (FileNotFoundError, ValueError):
        return not_found(request, _("The file of this licence is missing; please contact the issuing department."))
    response = FileResponse(
        handle, content_type="application/pdf", as_attachment=True, filename=f"{licence.identifier}.pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@applicant_page
@require_POST
def share_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    try:
        licence = wallet.licence_for_holder(user, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    form = ShareForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            share, _token = sharing.share(
                actor=user, licence=licence, purpose=data["purpose"], recipient=data["recipient"], days=data["days"]
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            request.session[NEW_SHARE_KEY] = share.pk
            messages.success(request, _("The share link is ready. Copy it below and send it to the recipient."))
            return redirect("wallet:licence", pk=licence.pk)
    return _render_detail(request, licence, form, status=400)


@applicant_page
@require_POST
def share_withdraw(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    try:
        share = wallet.share_for_holder(user, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    try:
        sharing.withdraw(actor=user, share=share)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The share link is withdrawn: it no longer opens."))
    return redirect("wallet:licence", pk=share.licence_id)


# --- the public share page ----------------------------------------------------------------------------


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = exc.http_status if isinstance(exc, sharing.ShareGone) else 404
    return render(request, "licences/share_gone.html", {"message": str(exc.message), "status": status}, status=status)


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The token is in the address: no referrer carries it elsewhere, no search engine keeps the page.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        share = sharing.open_share(
            token, client_ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except (NotFound, sharing.ShareGone) as exc:
        return _private(_refused(request, exc))
    licence = share.licence
    context: dict[str, Any] = {
        "share": share,
        "licence": licence,
        "document": issuance.document(licence, annotation=sharing.annotation_of(share)),
        "type_name": _type_name(licence),
        "token": token,
    }
    return _private(render(request, "licences/share.html", context))


@never_cache
@require_GET
def shared_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """The sealed annotated copy (加注件) as a download; logged as a view that downloaded the file."""
    try:
        share = sharing.open_share(
            token, client_ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""), download=True
        )
    except (NotFound, sharing.ShareGone) as exc:
        return _private(_refused(request, exc))
    response = FileResponse(
        share.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{share.licence.identifier}-copy.pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)
