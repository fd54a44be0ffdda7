"""Forms of the portal's identity pages.

The forms check only the shape of the input (present, not absurdly long, a date is a date). Every rule
about identities — an ID number's check digit, a name against the register, a password's strength — is the
identity service's, which raises a ``DomainError``; ``show_domain_error`` puts its translated messages next
to the fields they are about, so a page never words the same rule twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.common.errors import DomainError

# A code list is separated by commas (either width), Chinese enumeration commas, semicolons or white space.
_CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")


def show_domain_error(form: forms.Form, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
    """Attach a service's error to ``form``: each detail to its field (renamed through ``fields`` where the
    service names it differently), the rest, and the message itself when no detail landed on a field, to the
    form as a whole."""
    renamed = dict(fields or {})
    for detail in exc.details:
        field = str(detail.get("field", ""))
        field = renamed.get(field, field)
        form.add_error(field if field in form.fields else None, str(detail.get("message") or exc.message))
    if not exc.details:
        form.add_error(None, str(exc.message))


def _text(label: Any, *, max_length: int, autocomplete: str = "off", **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, "spellcheck": "false", **attrs}),
    )


def _password(label: Any, autocomplete: str) -> forms.CharField:
    # Long enough for pass phrases; the service applies the password rules.
    return forms.CharField(
        label=label, max_length=256, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": autocomplete})
    )


def _phone() -> forms.CharField:
    return _text(_("Mobile phone number"), max_length=20, autocomplete="tel", inputmode="tel")


def _code() -> forms.CharField:
    return _text(
        _("Verification code"),
        max_length=10,
        autocomplete="one-time-code",
        inputmode="numeric",
        pattern="[0-9]*",
    )


class _ConfirmedPassword(forms.Form):
    """A new password typed twice; the second field must repeat the first."""

    confirmed_field = "new_password"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get(self.confirmed_field), cleaned.get(f"{self.confirmed_field}_confirm")
        if first is not None and second is not None and first != second:
            self.add_error(f"{self.confirmed_field}_confirm", _("The two passwords are not the same."))
        return cleaned


class LoginForm(forms.Form):
    login = _text(
        _("ID number or staff user name"),
        max_length=150,
        autocomplete="username",
        autocapitalize="characters",
    )
    password = _password(_("Password"), "current-password")


class PhoneForm(forms.Form):
    phone = _phone()


class CodeLoginForm(forms.Form):
    phone = _phone()
    code = _code()


class RegisterForm(_ConfirmedPassword):
    confirmed_field = "password"

    id_number = _text(
        _("Resident ID number"),
        max_length=30,
        autocapitalize="characters",
        inputmode="text",
    )
    name = _text(_("Name as on the ID card"), max_length=100, autocomplete="name")
    phone = _phone()
    password = _password(_("Password"), "new-password")
    password_confirm = _password(_("Password again"), "new-password")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].help_text = _("18 characters; the last may be X.")
        self.fields["password"].help_text = _("At least 8 characters; not only digits and not a common password.")


class ResetPasswordForm(_ConfirmedPassword):
    phone = _phone()
    code = _code()
    new_password = _password(_("New password"), "new-password")
    new_password_confirm = _password(_("New password again"), "new-password")


class ChangePasswordForm(_ConfirmedPassword):
    old_password = _password(_("Current password"), "current-password")
    new_password = _password(_("New password"), "new-password")
    new_password_confirm = _password(_("New password again"), "new-password")


class ChangePhoneForm(forms.Form):
    phone = _text(_("New mobile phone number"), max_length=20, autocomplete="tel", inputmode="tel")
    code = forms.CharField(
        label=_("Code sent to the new number"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class BindEnterpriseForm(forms.Form):
    uscc = _text(_("Unified social credit code"), max_length=30, autocapitalize="characters")
    name = _text(_("Registered name of the enterprise"), max_length=200, autocomplete="organization")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["uscc"].help_text = _("18 characters, as printed on the business licence.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


SELF = "self"
ALL_ITEMS = "all"
LISTED_ITEMS = "listed"


def _a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + dt.timedelta(days=365)


class GrantAgencyForm(forms.Form):
    principal = forms.ChoiceField(label=_("On behalf of"))
    agent_id_number = _text(_("Agent's resident ID number"), max_length=30, autocapitalize="characters")
    agent_name = _text(_("Agent's name"), max_length=100)
    scope = forms.ChoiceField(
        label=_("Items the agent may handle"),
        choices=[(ALL_ITEMS, _("All items")), (LISTED_ITEMS, _("Only the items listed below"))],
        widget=forms.RadioSelect,
        initial=ALL_ITEMS,
    )
    item_codes = forms.CharField(
        label=_("Basic item codes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("Separate codes with commas or new lines."),
    )
    basic_items = forms.MultipleChoiceField(
        label=_("Or choose items"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput(), required=False)
    valid_until = forms.DateField(label=_("Valid until (inclusive)"), widget=DateInput())

    def __init__(
        self,
        *args: Any,
        principals: Iterable[tuple[str, str]],
        basic_items: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["principal"]).choices = list(principals)
        items = list(basic_items)
        if items:
            cast(forms.MultipleChoiceField, self.fields["basic_items"]).choices = items
        else:
            # Too many basic items to list (or none yet): the codes are typed instead.
            del self.fields["basic_items"]
        today = timezone.localdate()
        self.fields["valid_from"].initial = today
        self.fields["valid_until"].initial = _a_year_after(today)

    def chosen_codes(self) -> list[str]:
        """Codes typed and codes chosen, in one list (the service checks each exists)."""
        typed = [c for c in _CODE_SEPARATORS.split(self.cleaned_data.get("item_codes") or "") if c]
        return [*typed, *self.cleaned_data.get("basic_items", [])]

    def period(self) -> tuple[dt.datetime | None, dt.datetime]:
        """The chosen days as instants in the site's time zone: from the start of the first day to the end
        of the last (an agency "until 1 May" still holds on 1 May)."""
        start: dt.date | None = self.cleaned_data.get("valid_from")
        end: dt.date = self.cleaned_data["valid_until"]
        zone = timezone.get_current_timezone()
        valid_from = dt.datetime.combine(start, dt.time.min, tzinfo=zone) if start else None
        return valid_from, dt.datetime.combine(end, dt.time.max, tzinfo=zone)


class TokenForm(forms.Form):
    token = _text(
        _("Six-digit code from the authenticator app"),
        max_length=10,
        autocomplete="one-time-code",
        inputmode="numeric",
        pattern="[0-9]*",
    )
