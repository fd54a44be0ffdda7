"""The portal's identity pages: sign in and out, register, reset the password, my account, enterprises,
agencies and the staff second factor.

Views stay thin: they check the shape of the input with a form, call one ``identity.services`` function per
write and show its ``DomainError`` next to the fields it names, changing nothing. Numbers that identify a
person (ID and phone numbers) are shown masked on every page, the viewer's own included: screens are read
over shoulders, and nothing here needs the full number.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import BasicItem
from yiwang.common.errors import DomainError
from yiwang.identity import acting, selectors, services
from yiwang.identity.constants import AccountKind, CodePurpose, RealNameStatus, Role
from yiwang.identity.middleware import requires_second_factor
from yiwang.identity.models import Agency, account_of
from yiwang.portal.account_forms import (
    ALL_ITEMS,
    SELF,
    BindEnterpriseForm,
    ChangePasswordForm,
    ChangePhoneForm,
    CodeLoginForm,
    GrantAgencyForm,
    LoginForm,
    PhoneForm,
    RegisterForm,
    ResetPasswordForm,
    TokenForm,
    show_domain_error,
)
from yiwang.portal.labels import division_label, language
from yiwang.portal.views import not_found

BACKEND = "yiwang.identity.backends.IdentityBackend"
REGISTER_ACTOR = SystemActor("portal:register")
# Up to this many basic items are offered in a list to pick from; a full national catalogue is typed as codes.
MAX_LISTED_BASIC_ITEMS = 200


# --- helpers ----------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    # Only called behind login_required: the user is a signed-in auth.User (wrapped lazily by django-otp).
    return cast(User, request.user)


def _safe_next(request: HttpRequest) -> str:
    """Where to go after this page: the ``next`` parameter if it stays on this site, else ''."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _finish_sign_in(request: HttpRequest, user: User, next_url: str) -> HttpResponseRedirect:
    # login() gives the session a new key (no session fixation) and forgets any previous user's data.
    auth_login(request, user, backend=BACKEND)
    if requires_second_factor(user) and settings.YIWANG_STAFF_REQUIRE_TOTP:
        return HttpResponseRedirect(_with_next(reverse("portal:totp"), next_url))
    return HttpResponseRedirect(next_url or reverse("portal:account"))


# --- sign in, sign out ------------------------------------------------------------------------------


@sensitive_post_parameters("password", "code")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    """Password or SMS-code sign-in. Also where /o/authorize/ sends people, with its whole URL as ``next``."""
    next_url = _safe_next(request)
    method = request.POST.get("method") or request.GET.get("method") or "password"
    if method not in {"password", "sms"}:
        method = "password"
    password_form = LoginForm()
    phone_form = PhoneForm()
    code_form: CodeLoginForm | None = None
    code_sent = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "password":
            password_form = LoginForm(request.POST)
            if password_form.is_valid():
                try:
                    user = services.sign_in(
                        login=password_form.cleaned_data["login"],
                        password=password_form.cleaned_data["password"],
                        client_ip=services.client_ip(request),
                    )
                except DomainError as exc:
                    show_domain_error(password_form, exc)
                else:
                    return _finish_sign_in(request, user, next_url)
        elif action == "send_code":
            phone_form = PhoneForm(request.POST)
            if phone_form.is_valid():
                try:
                    services.request_code(phone=phone_form.cleaned_data["phone"], purpose=CodePurpose.LOGIN)
                except DomainError as exc:
                    show_domain_error(phone_form, exc)
                else:
                    code_sent = True
                    code_form = CodeLoginForm(initial={"phone": phone_form.cleaned_data["phone"]})
        elif action == "code":
            code_form = CodeLoginForm(request.POST)
            if code_form.is_valid():
                try:
                    user = services.sign_in_with_code(
                        phone=code_form.cleaned_data["phone"],
                        code=code_form.cleaned_data["code"],
                        client_ip=services.client_ip(request),
                    )
                except DomainError as exc:
                    show_domain_error(code_form, exc)
                else:
                    return _finish_sign_in(request, user, next_url)
    elif method == "sms" and request.GET.get("step") == "code":
        code_form = CodeLoginForm()
    return render(
        request,
        "portal/account/login.html",
        {
            "method": method,
            "next_url": next_url,
            "password_form": password_form,
            "phone_form": phone_form,
            "code_form": code_form,
            "code_sent": code_sent,
            "code_minutes": max(1, settings.YIWANG_SMS_CODE_SECONDS // 60),
            "tab_query": {
                m: urlencode({"method": m, **({"next": next_url} if next_url else {})}) for m in ("password", "sms")
            },
        },
    )


@never_cache
def logout_view(request: HttpRequest) -> HttpResponse:
    """Signing out changes state, so it is a POST (a link or an image cannot sign anyone out); GET asks."""
    if request.method == "POST":
        if request.user.is_authenticated:
            services.record_sign_out(actor=request.user)
        auth_logout(request)  # flushes the session, acting-for included
        messages.success(request, _("You have signed out."))
        # The sign-in page is never cached, so the notice cannot end up in a page cached for everyone.
        return redirect("portal:login")
    return render(request, "portal/account/logout.html")


# --- registration and password reset ----------------------------------------------------------------


@sensitive_post_parameters("password", "password_confirm", "id_number")
@never_cache
def register_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        messages.info(request, _("You are already signed in."))
        return redirect("portal:account")
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.register_person(
                actor=REGISTER_ACTOR,
                id_number=data["id_number"],
                name=data["name"],
                phone=data["phone"],
                password=data["password"],
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            auth_login(request, user, backend=BACKEND)
            if services.can_apply(user):
                messages.success(
                    request, _("Your account is ready and your real name is verified: you can apply for services.")
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Your account is ready, but your real name is not yet verified against the population "
                        "register: you can browse but not apply. Ask for the check again below later."
                    ),
                )
            return redirect("portal:account")
    return render(request, "portal/account/register.html", {"form": form})


@sensitive_post_parameters("new_password", "new_password_confirm", "code")
@never_cache
def password_reset_view(request: HttpRequest) -> HttpResponse:
    """Step 1: a code to the phone. Step 2: phone, code and the new password (which also lifts a lockout)."""
    phone_form = PhoneForm()
    reset_form: ResetPasswordForm | None = None
    code_sent = False
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "send_code":
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                services.request_code(phone=phone_form.cleaned_data["phone"], purpose=CodePurpose.RESET)
            except DomainError as exc:
                show_domain_error(phone_form, exc)
            else:
                code_sent = True
                reset_form = ResetPasswordForm(initial={"phone": phone_form.cleaned_data["phone"]})
    elif action == "reset":
        reset_form = ResetPasswordForm(request.POST)
        if reset_form.is_valid():
            data = reset_form.cleaned_data
            try:
                services.reset_password(phone=data["phone"], code=data["code"], new_password=data["new_password"])
            except DomainError as exc:
                show_domain_error(reset_form, exc, {"password": "new_password"})
            else:
                messages.success(request, _("Your password has been changed. Sign in with the new password."))
                return redirect("portal:login")
    elif request.GET.get("step") == "code":
        reset_form = ResetPasswordForm()
    return render(
        request,
        "portal/account/password_reset.html",
        {
            "phone_form": phone_form,
            "reset_form": reset_form,
            "code_sent": code_sent,
            "code_minutes": max(1, settings.YIWANG_SMS_CODE_SECONDS // 60),
        },
    )


# --- my account -------------------------------------------------------------------------------------


def _role_labels(user: User) -> list[str]:
    labels = dict(Role.choices)
    return [str(labels.get(name, name)) for name in user.groups.order_by("name").values_list("name", flat=True)]


@sensitive_post_parameters("old_password", "new_password", "new_password_confirm")
@never_cache
@login_required
def account_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    account = account_of(user)
    password_form = ChangePasswordForm()
    phone_form = ChangePhoneForm()
    verify_error = ""
    phone_error = ""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "send_phone_code":
        try:
            services.request_phone_confirmation(actor=user)
        except DomainError as exc:
            phone_error = str(exc.message)
        else:
            messages.success(request, _("A code was sent to your phone. Enter it below to confirm the number."))
            return redirect("portal:account")
    elif action == "confirm_phone":
        try:
            services.confirm_phone(actor=user, code=request.POST.get("code", ""))
        except DomainError as exc:
            phone_error = str(exc.message)
        else:
            messages.success(
                request, _("Your phone number is confirmed: you can sign in and reset the password by SMS.")
            )
            return redirect("portal:account")
    elif action in {"send_new_phone_code", "change_phone"}:
        phone_form = ChangePhoneForm(request.POST)
        if phone_form.is_valid():
            data = phone_form.cleaned_data
            try:
                if action == "send_new_phone_code":
                    # The code goes to the NEW number: changing it proves that number, not the old one.
                    services.request_code(phone=data["phone"], purpose=CodePurpose.REGISTER)
                else:
                    services.change_phone(actor=user, phone=data["phone"], code=data["code"])
            except DomainError as exc:
                show_domain_error(phone_form, exc)
            else:
                if action == "change_phone":
                    messages.success(request, _("Your phone number has been changed and confirmed."))
                    return redirect("portal:account")
                messages.success(request, _("A code was sent to the new number. Enter it to finish the change."))
    elif action == "verify":
        try:
            verified = services.verify_real_name(actor=user, user=user)
        except DomainError as exc:
            verify_error = str(exc.message)
        else:
            if verified.is_verified:
                messages.success(request, _("Your real name is verified: you can now apply for services."))
            return redirect("portal:account")
    elif action == "password":
        password_form = ChangePasswordForm(request.POST)
        if password_form.is_valid():
            data = password_form.cleaned_data
            try:
                services.change_password(
                    actor=user, old_password=data["old_password"], new_password=data["new_password"]
                )
            except DomainError as exc:
                show_domain_error(password_form, exc, {"password": "new_password"})
            else:
                update_session_auth_hash(request, user)  # stay signed in here; other sessions end
                messages.success(request, _("Your password has been changed."))
                return redirect("portal:account")
    is_staff = requires_second_factor(user)
    context: dict[str, Any] = {
        "nav": "account",
        "account": account,
        "display_name": (account.real_name if account else "") or user.get_full_name() or user.get_username(),
        "is_person": account is not None and account.kind == AccountKind.PERSON,
        "is_staff": is_staff,
        "can_apply": services.can_apply(user),
        "verified": account is not None and account.is_verified,
        "status_label": RealNameStatus(account.real_name_status).label if account else "",
        "verify_error": verify_error,
        "phone_error": phone_error,
        "password_form": password_form,
        "phone_form": phone_form,
        "enterprise_count": selectors.enterprises_represented_by(user).count(),
        "agency_count": selectors.agencies_granted_by(user).in_force().count()
        + selectors.agencies_held_by(user).in_force().count(),
    }
    if is_staff:
        context.update(
            {
                "department": account.department.display_name(language()) if account and account.department else "",
                "region": division_label(account.division) if account and account.division else "",
                "roles": _role_labels(user),
                "totp_enrolled": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
                "totp_passed": bool(getattr(request.user, "is_verified", lambda: False)()),
            }
        )
    return render(request, "portal/account/account.html", context)


# --- enterprises ------------------------------------------------------------------------------------


@never_cache
@login_required
def enterprises_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = BindEnterpriseForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            enterprise = services.bind_enterprise(
                actor=user, uscc=form.cleaned_data["uscc"], name=form.cleaned_data["name"]
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s is now bound to your account.") % {"name": enterprise.name})
            return redirect("portal:enterprises")
    enterprises = selectors.enterprises_represented_by(user)
    return render(
        request,
        "portal/account/enterprises.html",
        {"nav": "enterprises", "form": form, "enterprises": list(enterprises), "account": account_of(user)},
    )


# --- agencies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyRow:
    agency: Agency
    status: str  # in_force, pending, expired, revoked: also the badge's CSS modifier
    status_label: str
    name: str  # the other party: the agent (in lists of grants) or the principal (in lists of holdings)
    masked_id: str
    items: list[str]
    can_revoke: bool
    can_act: bool
    acting: bool


def _status(agency: Agency, now: Any) -> tuple[str, str]:
    status = agency.status_at(now)
    return status.value, str(status.label)


def _person_of(user: Any) -> tuple[str, str]:
    account = account_of(user)
    if account is None:
        return user.get_full_name() or user.get_username(), ""
    return account.real_name, account.masked_id_number


def _row(agency: Agency, *, other: Any, acting_id: int | None, as_agent: bool, now: Any) -> AgencyRow:
    status, label = _status(agency, now)
    if other is None:  # the principal is an enterprise
        assert agency.enterprise is not None
        name, masked = agency.enterprise.name, agency.enterprise.uscc  # a USCC is public, not personal data
    else:
        name, masked = _person_of(other)
    return AgencyRow(
        agency=agency,
        status=status,
        status_label=label,
        name=name,
        masked_id=masked,
        items=[] if agency.all_items else list(agency.item_codes),
        can_revoke=status in {"in_force", "pending"},
        can_act=as_agent and status == "in_force" and acting_id != agency.pk,
        acting=as_agent and acting_id == agency.pk,
    )


def _basic_item_choices() -> list[tuple[str, str]]:
    items = list(BasicItem.objects.order_by("code").values_list("code", "name")[: MAX_LISTED_BASIC_ITEMS + 1])
    if len(items) > MAX_LISTED_BASIC_ITEMS:
        return []
    return [(code, f"{code} {name}") for code, name in items]


@never_cache
@login_required
def agencies_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    enterprises = list(selectors.enterprises_represented_by(user))
    by_choice = {f"enterprise:{e.pk}": e for e in enterprises}
    principals = [(key, f"{e.name} ({e.uscc})") for key, e in by_choice.items()]
    principals.append((SELF, _("Myself (a proxy for my personal matters)")))
    initial = {"principal": next(iter(by_choice), SELF)}
    form = GrantAgencyForm(
        request.POST if request.method == "POST" else None,
        principals=principals,
        basic_items=_basic_item_choices(),
        initial=initial,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        valid_from, valid_until = form.period()
        try:
            agency = services.grant_agency(
                actor=user,
                agent_id_number=data["agent_id_number"],
                agent_name=data["agent_name"],
                enterprise=by_choice.get(data["principal"]),
                all_items=data["scope"] == ALL_ITEMS,
                item_codes=form.chosen_codes() if data["scope"] != ALL_ITEMS else (),
                valid_from=valid_from,
                valid_until=valid_until,
            )
        except DomainError as exc:
            show_domain_error(form, exc, {"id_number": "agent_id_number", "name": "agent_name"})
        else:
            agent_name, masked = _person_of(agency.agent)
            messages.success(
                request,
                _("%(name)s (%(id)s) can now act for %(principal)s.")
                % {"name": agent_name, "id": masked, "principal": acting.principal_name(agency)},
            )
            return redirect("portal:agencies")

    now = timezone.now()
    current = acting.current_agency(request)
    acting_id = current.pk if current else None
    granted = list(selectors.agencies_granted_by(user))
    granted_groups: list[dict[str, Any]] = [
        {
            "title": f"{e.name} ({e.uscc})",
            "rows": [
                _row(a, other=a.agent, acting_id=acting_id, as_agent=False, now=now)
                for a in granted
                if a.enterprise_id == e.pk
            ],
        }
        for e in enterprises
    ]
    own = [
        _row(a, other=a.agent, acting_id=acting_id, as_agent=False, now=now)
        for a in granted
        if a.principal_user_id == user.pk
    ]
    granted_groups.append({"title": _("For myself (proxies)"), "rows": own})
    held = [
        _row(a, other=a.principal_user, acting_id=acting_id, as_agent=True, now=now)
        for a in selectors.agencies_held_by(user)
    ]
    return render(
        request,
        "portal/account/agencies.html",
        {
            "nav": "agencies",
            "form": form,
            "granted_groups": granted_groups,
            "held": held,
            "acting_agency": current,
            "account": account_of(user),
        },
    )


def _agency_of(request: HttpRequest, pk: int) -> Agency | None:
    """One of the agencies the user granted or holds; the service checks again who may end it."""
    user = _user(request)
    found: Agency | None = selectors.agencies_granted_by(user).filter(pk=pk).first()
    return found or selectors.agencies_held_by(user).filter(pk=pk).first()


@never_cache
@login_required
@require_POST
def agency_revoke(request: HttpRequest, pk: int) -> HttpResponseBase:
    agency = _agency_of(request, pk)
    if agency is None:
        return not_found(request, _("There is no such agency among yours."))
    try:
        services.revoke_agency(actor=_user(request), agency=agency)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if agency.agent_id == request.user.pk:
            current = request.session.get(acting.SESSION_KEY)
            if current == agency.pk:
                acting.stop_acting(request)
            messages.success(
                request, _("You no longer act for %(principal)s.") % {"principal": acting.principal_name(agency)}
            )
        else:
            name, masked = _person_of(agency.agent)
            messages.success(request, _("The agency of %(name)s (%(id)s) is revoked.") % {"name": name, "id": masked})
    return redirect("portal:agencies")


@never_cache
@login_required
@require_POST
def agency_act(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        agency = services.start_acting(actor=_user(request), agency_id=pk)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("portal:agencies")
    acting.set_acting(request, agency)
    messages.success(request, _("You now act for %(principal)s.") % {"principal": acting.principal_name(agency)})
    return HttpResponseRedirect(_safe_next(request) or reverse("portal:agencies"))


@never_cache
@login_required
@require_POST
def stop_acting(request: HttpRequest) -> HttpResponseBase:
    agency_id = request.session.get(acting.SESSION_KEY)
    if agency_id is not None:
        agency = Agency.objects.filter(pk=agency_id, agent=_user(request)).first()
        services.stop_acting(actor=_user(request), agency=agency)
        acting.stop_acting(request)
        messages.success(request, _("You act for yourself again."))
    return HttpResponseRedirect(_safe_next(request) or reverse("portal:agencies"))


# --- the staff second factor ------------------------------------------------------------------------


def _qr_svg(uri: str) -> SafeString:
    """The otpauth URI as an inline SVG QR code (path data only: no text from the URI reaches the markup)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = str(image.to_string(encoding="unicode"))
    label = escape(_("QR code for the authenticator app"))
    svg = svg.replace("<svg ", f'<svg class="totp-qr" role="img" aria-label="{label}" ', 1)
    return mark_safe(svg)  # noqa: S308 - generated by the qrcode library from our own URI; the label is escaped


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("token")
@never_cache
@login_required
def totp_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _safe_next(request)
    if not requires_second_factor(user):
        messages.info(request, _("The authenticator app is required only for staff accounts."))
        return redirect("portal:account")
    if getattr(request.user, "is_verified", lambda: False)():
        return HttpResponseRedirect(next_url or reverse("portal:account"))
    form = TokenForm(request.POST if request.method == "POST" else None)
    enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device: TOTPDevice | None = None
    if not enrolled:
        # The first visit starts the enrolment so the QR code is on the first screen; reloading shows the same
        # secret again (a new one would silently invalidate what the person has just scanned).
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = services.start_totp_enrolment(actor=user)
    if form.is_bound and form.is_valid():
        token = form.cleaned_data["token"]
        try:
            if device is not None:
                passed = services.confirm_totp(actor=user, device=device, token=token)
            else:
                passed = services.verify_totp(actor=user, token=token)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            otp_login(request, passed)
            request.session.cycle_key()  # a new session key with the raised privilege
            if device is not None:
                messages.success(request, _("Your authenticator app is set up."))
            return HttpResponseRedirect(next_url or reverse("portal:account"))
    context: dict[str, Any] = {"form": form, "enrolling": device is not None, "next_url": next_url}
    if device is not None:
        secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
        context.update(
            {"qr_svg": _qr_svg(device.config_url), "secret": _grouped(secret), "issuer": settings.OTP_TOTP_ISSUER}
        )
    return render(request, "portal/account/totp.html", context)
