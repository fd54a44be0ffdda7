"""Department systems (OAuth2/OIDC clients) in the admin, replacing django-oauth-toolkit's Application admin.

DOT's own screen edits client rows directly (grant type, secret, no policy, no audit); here every change
goes through ``yiwang.identity.clients``. The client secret is shown once, in a message after registration
or rotation: only its hash is stored. Clients are disabled, never deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings

from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError
from yiwang.identity import authz, clients
from yiwang.identity.models_oidc import ClientKind, ClientPolicy
from yiwang.identity.oidc import policy_of

Application = get_application_model()


def _actor(request: HttpRequest) -> User:
    # Admin views are reached only by a signed-in user (the admin site's own check).
    user = request.user
    assert isinstance(user, User)
    return user


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").split() if line.strip()]


class ClientForm(forms.ModelForm):  # type: ignore[type-arg]  # DOT's model is untyped
    """The application's name and addresses with its policy; saved by ``clients`` services, not by the form."""

    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=ClientKind.choices, required=False)
    redirect_uris = forms.CharField(
        label=gettext_lazy("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("One per line; https (plain http only on 127.0.0.1 or localhost)."),
    )
    post_logout_redirect_uris = forms.CharField(
        label=gettext_lazy("Addresses after sign-out"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=gettext_lazy("One per line; where a web system may send the user after signing out."),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label=gettext_lazy("allowed scopes"), required=False, widget=forms.CheckboxSelectMultiple
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("department"), queryset=Organisation.objects.all(), required=False
    )
    may_receive_id_numbers = forms.BooleanField(label=gettext_lazy("may receive ID numbers in clear"), required=False)

    class Meta:
        model = Application
        fields = ["name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allowed_scopes"].choices = [  # type: ignore[attr-defined]
            (scope, f"{scope} — {description}") for scope, description in oauth2_settings.SCOPES.items()
        ]
        if "name" in self.fields:  # absent when the admin shows the client read-only
            self.fields["name"].required = True
        policy = policy_of(self.instance) if self.instance.pk else None
        if policy is not None:
            # The kind decides the grant type; a different use is a different registration.
            self.fields["kind"].disabled = True
            self.initial.update(
                kind=policy.kind,
                redirect_uris="\n".join(self.instance.redirect_uris.split()),
                post_logout_redirect_uris="\n".join(self.instance.post_logout_redirect_uris.split()),
                allowed_scopes=list(policy.allowed_scopes),
                department=policy.department,
                may_receive_id_numbers=policy.may_receive_id_numbers,
            )
        else:
            self.fields["kind"].required = True

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        policy = policy_of(self.instance) if self.instance.pk else None
        kind = policy.kind if policy is not None else data.get("kind")
        if not kind:
            return data
        # The services' own checks, run here as well so that problems show on the form.
        try:
            clients.clean_policy_input(
                kind=kind,
                redirect_uris=_lines(data.get("redirect_uris", "")),
                post_logout_redirect_uris=_lines(data.get("post_logout_redirect_uris", "")),
                allowed_scopes=data.get("allowed_scopes") or [],
                may_receive_id_numbers=bool(data.get("may_receive_id_numbers")),
            )
        except DomainError as exc:
            for detail in exc.details or [{"field": None, "message": str(exc.message)}]:
                field = detail.get("field")
                self.add_error(field if field in self.fields else None, str(detail["message"]))
        return data

    def _post_clean(self) -> None:
        # DOT's model validation expects a complete client (grant type, secret); ``clients`` builds and checks
        # the whole client itself, so the form validates only its own fields.
        pass


@admin.display(description=gettext_lazy("kind"))
def _kind(application: Any) -> str:
    policy = policy_of(application)
    return str(policy.get_kind_display()) if policy else "—"


@admin.display(description=gettext_lazy("department"))
def _department(application: Any) -> str:
    policy = policy_of(application)
    return str(policy.department) if policy and policy.department else "—"


@admin.display(description=gettext_lazy("active"), boolean=True)
def _active(application: Any) -> bool:
    policy = policy_of(application)
    return bool(policy and policy.is_active)


class ClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # DOT's model is untyped
    form = ClientForm
    list_display = ["name", "client_id", _kind, _department, _active, "created"]
    list_select_related = ["policy", "policy__department"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "created", "updated"]
    actions = ["rotate_secret", "disable_selected"]
    view_on_site = False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only (a disabled client, or a viewer): the policy shown through the display methods below.
            return [
                "client_id",
                "name",
                "kind_display",
                "redirect_uris",
                "post_logout_redirect_uris",
                "scopes_display",
                "department_display",
                "id_numbers_display",
                "status_display",
                "created",
                "updated",
            ]
        fields = [
            "name",
            "kind",
            "redirect_uris",
            "post_logout_redirect_uris",
            "allowed_scopes",
            "department",
            "may_receive_id_numbers",
        ]
        return ["client_id", *fields, "created", "updated"] if obj is not None else fields

    @admin.display(description=gettext_lazy("kind"))
    def kind_display(self, obj: Any) -> str:
        return _kind(obj)

    @admin.display(description=gettext_lazy("allowed scopes"))
    def scopes_display(self, obj: Any) -> str:
        policy = policy_of(obj)
        return " ".join(policy.allowed_scopes) if policy else "—"

    @admin.display(description=gettext_lazy("department"))
    def department_display(self, obj: Any) -> str:
        return _department(obj)

    @admin.display(description=gettext_lazy("may receive ID numbers in clear"), boolean=True)
    def id_numbers_display(self, obj: Any) -> bool:
        policy = policy_of(obj)
        return bool(policy and policy.may_receive_id_numbers)

    @admin.display(description=gettext_lazy("disabled at"))
    def status_display(self, obj: Any) -> Any:
        policy = policy_of(obj)
        return policy.disabled_at if policy and policy.disabled_at else "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def _may_manage(self, request: HttpRequest) -> bool:
        return authz.allowed(request.user, clients.MANAGE_CLIENTS)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_manage(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_manage(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_manage(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        policy = policy_of(obj) if obj is not None else None
        return self._may_manage(request) and (obj is None or (policy is not None and policy.is_active))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disabled, never deleted: the audit log and issued tokens' history refer to it

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        data = form.cleaned_data
        policy_fields: dict[str, Any] = {
            "redirect_uris": _lines(data.get("redirect_uris", "")),
            "post_logout_redirect_uris": _lines(data.get("post_logout_redirect_uris", "")),
            "allowed_scopes": data.get("allowed_scopes") or [],
            "department": data.get("department"),
            "may_receive_id_numbers": bool(data.get("may_receive_id_numbers")),
        }
        if change:
            clients.update_client(actor=_actor(request), application=obj, name=data["name"], **policy_fields)
            obj.refresh_from_db()
            return
        application, secret = clients.register_client(
            actor=_actor(request), name=data["name"], kind=data["kind"], **policy_fields
        )
        # The admin redirects to the object it saved: hand it the registered row.
        obj.pk = application.pk
        obj.client_id = application.client_id
        self._show_secret(request, application, secret)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # nothing related is edited here; the policy was saved by the service

    def _show_secret(self, request: HttpRequest, application: Any, secret: str) -> None:
        messages.warning(
            request,
            _(
                "Client ID: %(client_id)s — client secret: %(secret)s — copy the secret now: it is stored only "
                "as a hash and will not be shown again."
            )
            % {"client_id": application.client_id, "secret": secret},
        )

    @admin.action(description=gettext_lazy("Issue a new client secret (the old one stops working)"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one client to issue a new secret for."))
            return
        application = queryset.get()
        try:
            secret = clients.rotate_client_secret(actor=_actor(request), application=application)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return
        self._show_secret(request, application, secret)

    @admin.action(description=gettext_lazy("Disable the selected clients (tokens are revoked)"))
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for application in queryset:
            try:
                clients.disable_client(actor=_actor(request), application=application, reason="admin")
            except (DomainError, ClientPolicy.DoesNotExist) as exc:
                messages.error(request, f"{application}: {getattr(exc, 'message', exc)}")
                continue
            done += 1
        if done:
            messages.success(request, _("Clients disabled: %(count)d.") % {"count": done})


if admin.site.is_registered(Application):
    admin.site.unregister(Application)
admin.site.register(Application, ClientAdmin)
