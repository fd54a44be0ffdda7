"""Catalogue management in the admin. Every change goes through ``services``; the admin only shows
and collects input (drafts are edited as the exchange-format JSON, with every violation listed)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalogue import forms as item_forms
from yiwang.catalogue import handling, selectors, services
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import Attachment, BasicItem, ImplementationItem, ItemVersion, Organisation
from yiwang.common.errors import DomainError


class ContentForm(forms.Form):
    content = forms.CharField(
        label=gettext_lazy("Content (exchange format JSON)"),
        widget=forms.Textarea(attrs={"rows": 40, "cols": 120, "style": "font-family: monospace"}),
    )

    def clean_content(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["content"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                gettext_lazy("Not valid JSON: %(error)s (line %(line)d)"), params={"error": exc.msg, "line": exc.lineno}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext_lazy("The content must be one JSON object."))
        return value


class JSONField(forms.CharField):
    """A JSON value typed as text (the admin edits forms and steps as JSON, as it edits content)."""

    def __init__(self, *, label: Any, rows: int) -> None:
        widget = forms.Textarea(attrs={"rows": rows, "cols": 120, "style": "font-family: monospace"})
        super().__init__(label=label, widget=widget)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        try:
            return json.loads(text or "")
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                gettext_lazy("Not valid JSON: %(error)s (line %(line)d)"), params={"error": exc.msg, "line": exc.lineno}
            ) from None

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


class HandlingForm(forms.Form):
    """The application form (JSON Schema subset), its layout and the handling steps (docs/catalogue.md)."""

    form_schema = JSONField(label=gettext_lazy("Application form (JSON Schema)"), rows=30)
    form_layout = JSONField(label=gettext_lazy("Form layout (sections)"), rows=12)
    steps = JSONField(label=gettext_lazy("Handling steps after acceptance"), rows=12)

    def __init__(self, *args: Any, frozen: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = frozen

    def add_problems(self, exc: DomainError) -> None:
        """Each problem beside the JSON it is about (its path starts with the field's name)."""
        placed = False
        for detail in exc.details:
            path = str(detail.get("path", ""))
            name = next((n for n in self.fields if path == n or path.startswith((f"{n}.", f"{n}["))), None)
            if name is not None:
                self.add_error(name, f"{path}: {detail.get('message', '')}")
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.json in the exchange format, or .xlsx)"))


class AttachmentForm(forms.Form):
    reference = forms.ChoiceField(label=gettext_lazy("Document referenced in the content"))
    file = forms.FileField(
        label=gettext_lazy("File (PDF, OFD, Word, Excel, JPEG or PNG)"),
        allow_empty_file=True,  # the service refuses an empty file with its own message
    )

    def __init__(self, *args: Any, references: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reference"].choices = [(r, r) for r in references]  # type: ignore[attr-defined]


def _references(version: ItemVersion) -> list[str]:
    return list(dict.fromkeys(r.reference for r in selectors.document_references(version.content)))


def _report(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, str(exc.message))
    for detail in exc.details[:50]:
        messages.error(
            request,
            f"{detail.get('rule', '')} {detail.get('path') or detail.get('element', '')}: {detail.get('message', '')}",
        )


def _may_manage(request: HttpRequest, version: ItemVersion | None = None) -> bool:
    """The admin site's two gates: the Django permission of the site, and authz (role and scope)."""
    user: Any = request.user
    return bool(user.has_perm(services.MANAGE_PERMISSION)) and services.can(user, services.MANAGE, version=version)


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin[ItemVersion]):
    list_display = [
        "name",
        "implementation_code",
        "number",
        "status",
        "violation_count",
        "department",
        "region_code",
        "updated_at",
    ]
    list_filter = ["status", "item_type", "department"]
    search_fields = ["name", "implementation_code", "basic_code"]
    readonly_fields = [
        "item",
        "number",
        "status",
        "violations",
        "pretty_content",
        "valid_from",
        "valid_until",
        "published_at",
        "published_by",
        "created_by",
        "status_note",
    ]
    exclude = [
        "content",
        "search_text",
        "name",
        "item_type",
        "basic_code",
        "implementation_code",
        "region_code",
        "region",
        "department",
        "service_objects",
        "natural_person_themes",
        "legal_person_themes",
        "violation_count",
        "submitted_at",
    ]
    actions = ["submit_selected", "publish_selected"]
    change_form_template = "admin/catalogue/itemversion/change_form.html"
    change_list_template = "admin/catalogue/itemversion/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ItemVersion]:
        # Only the rows the services would let this user act on: their department's, inside their region.
        return super().get_queryset(request).filter(selectors.version_scope(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_manage(request)

    def has_change_permission(self, request: HttpRequest, obj: ItemVersion | None = None) -> bool:
        return _may_manage(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: ItemVersion | None = None) -> bool:
        return _may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ItemVersion | None = None) -> bool:
        return False  # versions are history: withdraw instead

    @admin.display(description=gettext_lazy("Quality rule violations"))
    def violations(self, obj: ItemVersion) -> str:
        found = services.check_document(obj.content)
        if not found:
            return _("None")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> <code>{}</code> {} ({})</li>",
                ((v.rule, v.element, str(v.message), v.severity) for v in found),
            ),
        )

    @admin.display(description=gettext_lazy("Content"))
    def pretty_content(self, obj: ItemVersion) -> str:
        return format_html(
            "<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(obj.content, ensure_ascii=False, indent=2)
        )

    def get_urls(self) -> list[Any]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/edit/", view(self.edit_view), name=f"{prefix}_edit"),
            path("new/", view(self.edit_view), name=f"{prefix}_new"),
            path("<int:pk>/act/<str:action>/", view(self.act_view), name=f"{prefix}_act"),
            path("import/", view(self.import_view), name=f"{prefix}_import"),
            path("<int:pk>/attachments/", view(self.attach_view), name=f"{prefix}_attach"),
            path("<int:pk>/handling/", view(self.handling_view), name=f"{prefix}_handling"),
            path("attachments/<int:attachment_pk>/", view(self.attachment_view), name=f"{prefix}_attachment"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ItemVersion | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["attachment_form"] = AttachmentForm(references=_references(obj))
            context["attachments"] = sorted(selectors.attachments_for(obj.item_id).values(), key=lambda a: a.reference)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:catalogue_itemversion_new"))

    def edit_view(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        version = get_object_or_404(self.get_queryset(request), pk=pk) if pk else None
        initial = json.dumps(version.content if version else {}, ensure_ascii=False, indent=2)
        form = ContentForm(request.POST or None, initial={"content": initial})
        if request.method == "POST" and form.is_valid():
            try:
                saved = services.save_draft(
                    actor=request.user,  # type: ignore[arg-type]  # admin views require a logged-in user
                    content=form.cleaned_data["content"],
                    item=version.item if version else None,
                )
            except DomainError as exc:
                _report(request, exc)
            else:
                messages.success(
                    request, _("Draft saved with %(count)d violations.") % {"count": saved.violation_count}
                )
                return HttpResponseRedirect(reverse("admin:catalogue_itemversion_change", args=[saved.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "version": version,
            "opts": self.opts,
            "title": _("Edit draft") if version else _("New item"),
        }
        return TemplateResponse(request, "admin/catalogue/itemversion/edit.html", context)

    def handling_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The version's application form and handling steps: edited through ``handling.set_handling`` while the
        version is open, read-only once it is published."""
        if not self.has_view_permission(request):
            raise DjangoPermissionDenied
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        frozen = version.status not in handling.OPEN_STATUSES
        definition = handling.handling_for(version)
        form = HandlingForm(
            None if frozen or request.method != "POST" else request.POST, initial=definition.as_json(), frozen=frozen
        )
        if request.method == "POST" and not frozen and form.is_valid():
            try:
                handling.set_handling(
                    actor=request.user,  # type: ignore[arg-type]  # admin views require a logged-in user
                    version=version,
                    **form.cleaned_data,
                )
            except DomainError as exc:
                messages.error(request, str(exc.message))
                form.add_problems(exc)
            else:
                messages.success(request, _("The application form and handling steps are saved."))
                return HttpResponseRedirect(reverse("admin:catalogue_itemversion_handling", args=[pk]))
        language = getattr(request, "LANGUAGE_CODE", None)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "version": version,
            "frozen": frozen,
            "definition": definition,
            "steps": [(step, definition.step_label(step, language)) for step in definition.steps],
            "stored_problems": handling.handling_problems(version),
            "preview": item_forms.render_fields(definition, {}, [], language),
            "opts": self.opts,
            "title": _("Application form and handling steps of %(version)s") % {"version": version},
        }
        return TemplateResponse(request, "admin/catalogue/itemversion/handling.html", context)

    def act_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:catalogue_itemversion_change", args=[pk]))
        actor: Any = request.user
        reason = request.POST.get("reason", "")
        try:
            services.act_on_version(actor=actor, version=version, action=action, reason=reason)
            messages.success(request, _("Done."))
        except DomainError as exc:
            _report(request, exc)
        return HttpResponseRedirect(reverse("admin:catalogue_itemversion_change", args=[pk]))

    def attach_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        back = HttpResponseRedirect(reverse("admin:catalogue_itemversion_change", args=[pk]))
        if request.method != "POST":
            return back
        form = AttachmentForm(request.POST, request.FILES, references=_references(version))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return back
        try:
            attachment = services.attach_document(
                actor=request.user,  # type: ignore[arg-type]  # admin views require a logged-in user
                item=version.item,
                reference=form.cleaned_data["reference"],
                upload=form.cleaned_data["file"],
            )
        except DomainError as exc:
            _report(request, exc)
        else:
            messages.success(request, _("Attached %(name)s.") % {"name": attachment.reference})
        return back

    def attachment_view(self, request: HttpRequest, attachment_pk: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise DjangoPermissionDenied
        in_scope = selectors.items_for_management(request.user)
        attachment = get_object_or_404(Attachment.objects.filter(item__in=in_scope), pk=attachment_pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=attachment.content_type, filename=attachment.filename)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        rows: list[dict[str, Any]] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            actor: Any = request.user
            try:
                if upload.name.lower().endswith(".xlsx"):
                    from yiwang.catalogue.spreadsheet import import_workbook

                    result = import_workbook(actor=actor, source=upload)
                    rows = [r.as_dict() for r in result.row_errors]
                    if not result.row_errors:
                        messages.success(request, _("Imported %(count)d items.") % {"count": len(result.items)})
                else:
                    items = services.parse_document(json.loads(upload.read().decode("utf-8")))
                    report = services.import_items(actor=actor, items=items)
                    messages.success(request, _("Imported %(count)d items.") % {"count": len(report.versions)})
            except DomainError as exc:
                _report(request, exc)
            except (UnicodeDecodeError, json.JSONDecodeError):
                messages.error(request, _("The file is neither UTF-8 JSON nor a spreadsheet."))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "rows": rows,
            "opts": self.opts,
            "title": _("Import items"),
        }
        return TemplateResponse(request, "admin/catalogue/itemversion/import.html", context)

    @admin.action(description=gettext_lazy("Submit selected drafts for review"))
    def submit_selected(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._bulk(request, queryset.filter(status=VersionStatus.DRAFT), services.submit_for_review)

    @admin.action(description=gettext_lazy("Publish selected versions in review"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._bulk(request, queryset.filter(status=VersionStatus.IN_REVIEW), services.publish)

    def _bulk(self, request: HttpRequest, queryset: QuerySet[ItemVersion], action: Any) -> None:
        done = 0
        for version in queryset:
            try:
                action(actor=request.user, version=version)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{version}: {exc.message}")
        messages.success(request, _("%(count)d versions changed.") % {"count": done})


@admin.register(BasicItem)
class BasicItemAdmin(admin.ModelAdmin[BasicItem]):
    list_display = ["code", "name", "item_type"]
    search_fields = ["code", "name"]

    def has_change_permission(self, request: HttpRequest, obj: BasicItem | None = None) -> bool:
        return False  # registered by services from implementations; fixed nationally

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BasicItem | None = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "name_en", "uscc", "division"]
    search_fields = ["name", "name_en", "uscc"]

    def has_change_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False


@admin.register(ImplementationItem)
class ImplementationItemAdmin(admin.ModelAdmin[ImplementationItem]):
    list_display = ["implementation_code", "basic_item", "created_at"]
    search_fields = ["implementation_code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImplementationItem]:
        return super().get_queryset(request).filter(pk__in=selectors.items_for_management(request.user).values("pk"))

    def has_change_permission(self, request: HttpRequest, obj: ImplementationItem | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImplementationItem | None = None) -> bool:
        return False
