"""Every write of the identity domain: accounts, real-name checks, sign-in, one-time codes, second factor,
staff and roles, enterprises and agency grants.

Each function takes a keyword-only ``actor``, runs in one transaction and records what it did in the audit
log inside it (sign-in attempts too: a failed login is evidence). ID and phone numbers never enter audit
records or messages in clear (masked), and are stored encrypted with a blind index (yiwang.common.crypto).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor, SystemActor
from yiwang.catalogue.models import BasicItem, Organisation
from yiwang.common.crypto import blind_index, id_number_index, normalise_identifier, phone_index
from yiwang.common.errors import InvalidInput, NotFound, PermissionDenied, invalid_field, invalid_problems
from yiwang.common.masking import mask_id_number, mask_phone, mask_text
from yiwang.common.models import Division, DivisionLevel
from yiwang.common.validators import resident_id_problems
from yiwang.identity import authz, messaging
from yiwang.identity.constants import (
    AccountKind,
    AgencyStatus,
    CodePurpose,
    IdType,
    PrincipalKind,
    RealNameStatus,
    Role,
)
from yiwang.identity.models import Account, Agency, Enterprise, OneTimeCode, account_of

_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
LOGIN_SYSTEM = SystemActor("sign-in")
# Agencies last at most this long; a principal renews them (a common provincial rule is one to three years).
MAX_AGENCY_DAYS = 3 * 366


# --- input checks ---------------------------------------------------------------------------------


_invalid = invalid_field


def clean_id_number(value: str) -> str:
    """A resident ID number checked against GB 11643: format, real birth date, known province, check digit."""
    number = normalise_identifier(value)
    problems = resident_id_problems(number)
    if problems:
        raise invalid_problems("id_number", problems, _("The ID number is not valid."))
    # The region part is where the number was first issued; counties are renamed and merged over time, so
    # only the province must be a known one (our division table holds every province).
    if not Division.objects.filter(code=number[:2] + "0000", level=DivisionLevel.PROVINCE).exists():
        raise _invalid("id_number", _("The ID number's region code is not a known province."))
    return number


def clean_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE_RE.fullmatch(phone):
        raise _invalid("phone", _("Enter an 11-digit mainland mobile number."))
    return phone


def clean_name(value: str) -> str:
    # The registers' own normalisation (NFKC, no whitespace incl. the full-width space, one name separator "·"),
    # so that a name the verify API accepts is accepted here too.
    from yiwang.registers.selectors import normalise_name

    name = normalise_name(value)
    if not name or len(name) > 100:
        raise _invalid("name", _("Enter your name as on your ID card."))
    return name


def clean_uscc(value: str) -> str:
    """A USCC checked as the legal-entity register checks it (GB 32100, under YIWANG_USCC_POLICY)."""
    from yiwang.registers.selectors import uscc_blocking_problems

    code = normalise_identifier(value)
    problems = uscc_blocking_problems(code)
    if problems:
        raise invalid_problems("uscc", problems, _("The unified social credit code is not valid."))
    return code


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(
            _("The password is not strong enough."),
            details=[{"field": "password", "message": str(m)} for m in exc.messages],
        ) from exc


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    # Behind a proxy the deployment sets REMOTE_ADDR correctly (e.g. gunicorn --forwarded-allow-ips).
    return str(request.META.get("REMOTE_ADDR", ""))


# --- natural persons ------------------------------------------------------------------------------


def _real_name_check(id_number: str, name: str) -> bool:
    """Whether the population register confirms the pair; raises when it contradicts it.

    Absent from the register → unverified (the register may lag; the person verifies later at a window).
    Present under another name → refused: that is someone else's ID number or a typo.
    """
    from yiwang.registers import selectors as registers

    person = registers.find_person(id_number)
    if person is None:
        return False
    if not registers.names_match(person.name, name):
        raise _invalid("name", _("The name does not match the population register for this ID number."))
    return True


def register_person(*, actor: Actor, id_number: str, name: str, phone: str, password: str) -> User:
    """A natural person's account: verified at once when the population register confirms ID and name."""
    number = clean_id_number(id_number)
    name = clean_name(name)
    phone = clean_phone(phone)
    index = id_number_index(number)
    username = "p-" + index[:24]  # opaque: the ID number must not appear in user names, logs or URLs
    # The password first: a weak one must not turn registration into a free oracle for "does this ID have an
    # account" or "is this the registered name".
    _check_password(password, User(username=username, first_name=name))
    if Account.objects.filter(id_number_index=index).exists():
        raise _invalid("id_number", _("An account with this ID number already exists. Sign in or reset the password."))
    verified = _real_name_check(number, name)
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, first_name=name)
        account = Account.objects.create(
            user=user,
            kind=AccountKind.PERSON,
            real_name=name,
            id_type=IdType.RESIDENT_ID,
            id_number=number,
            id_number_index=index,
            phone=phone,
            phone_index=phone_index(phone),
            real_name_status=RealNameStatus.VERIFIED if verified else RealNameStatus.UNVERIFIED,
            verified_at=timezone.now() if verified else None,
        )
        audit.record(
            actor=actor,
            action="identity.registered",
            object_type="identity.account",
            object_id=account.pk,
            object_label=f"{name} {mask_id_number(number)}",
            after={"real_name_status": account.real_name_status, "phone": mask_phone(phone)},
        )
    return user


def verify_real_name(*, actor: Actor, user: User) -> Account:
    """Check an unverified account against the population register again (e.g. after the register caught up)."""
    account = _account(user)
    if account.kind != AccountKind.PERSON:
        raise _invalid("account", _("Only personal accounts are verified against the population register."))
    if account.is_verified:
        return account
    if not _real_name_check(account.id_number, account.real_name):
        raise _invalid("id_number", _("The population register has no record of this ID number yet."))
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            real_name_status=RealNameStatus.VERIFIED, verified_at=timezone.now()
        )
        audit.record(
            actor=actor,
            action="identity.real_name_verified",
            object_type="identity.account",
            object_id=account.pk,
            object_label=f"{account.real_name} {account.masked_id_number}",
        )
    account.refresh_from_db()
    return account


def _account(user: Any) -> Account:
    account = account_of(user)
    if account is None:
        raise NotFound(_("This user has no account record."))
    return account


def can_apply(user: Any) -> bool:
    """Unverified accounts can browse but not apply (real-name rule of the national platform)."""
    subject = authz.subject_of(user)
    return subject.kind == AccountKind.PERSON and subject.verified


def change_phone(*, actor: User, phone: str, code: str) -> Account:
    """Change one's phone number after proving the new number with a code sent to it."""
    account = _account(actor)
    phone = clean_phone(phone)
    _use_code(phone=phone, purpose=CodePurpose.REGISTER, code=code)
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            phone=phone, phone_index=phone_index(phone), phone_confirmed_at=timezone.now()
        )
        audit.record(
            actor=actor,
            action="identity.phone_changed",
            object_type="identity.account",
            object_id=account.pk,
            before={"phone": account.masked_phone},
            after={"phone": mask_phone(phone)},
        )
    account.refresh_from_db()
    return account


# --- sign-in: password, throttling, lockout -------------------------------------------------------


class SignInRefused(InvalidInput):
    code = "sign_in_refused"
    http_status = 401


class AccountLocked(SignInRefused):
    code = "account_locked"
    http_status = 429


def find_user(login: str) -> User | None:
    """The user a login names: an ID number (citizens) through its blind index, else a user name (staff)."""
    login = (login or "").strip()
    if re.fullmatch(r"[0-9]{17}[0-9Xx]", login):
        account = Account.objects.select_related("user").filter(id_number_index=id_number_index(login)).first()
        return account.user if account else None
    return User.objects.filter(username=login).first()


def _ip_key(ip: str) -> str:
    return f"identity:login-failures:{hashlib.sha256(ip.encode()).hexdigest()[:32]}"


def sign_in(*, login: str, password: str, client_ip: str = "") -> User:
    """Check a password login with throttling: ``YIWANG_LOGIN_MAX_FAILURES`` failures lock the account, and
    the client address, for ``YIWANG_LOGIN_LOCK_SECONDS``. Every attempt is audited; the reason a sign-in
    failed is not told to the caller beyond "wrong login or password" and "locked", to avoid enumeration."""
    now = timezone.now()
    lock = dt.timedelta(seconds=settings.YIWANG_LOGIN_LOCK_SECONDS)
    wrong = SignInRefused(_("The ID number / user name or the password is wrong."))
    locked = AccountLocked(_("Too many failed sign-ins. Try again later or reset the password by SMS."))
    ip_failures = cache.get(_ip_key(client_ip), 0) if client_ip else 0
    user = find_user(login)
    # Whatever was typed is masked: a phone number or a malformed ID number typed as the login is still personal.
    label = user.get_username() if user else mask_text(mask_id_number(login) if len(login) == 18 else login[:40])
    if ip_failures >= settings.YIWANG_LOGIN_MAX_FAILURES * 4:
        # One address trying many accounts: slow it down even where no single account is locked.
        _audit_sign_in(user, "identity.login_failed", label, "address throttled", client_ip)
        raise locked
    if user is None or not user.is_active:
        # Same work and same answers as for a real account: hash a password (timing) and lock after the same
        # number of failures (a cache counter under the login's blind index), so neither tells who has one.
        make_password(password)
        failures = _incr(f"identity:unknown-login:{blind_index(login, purpose='login')}")
        _note_ip_failure(client_ip)
        _audit_sign_in(None, "identity.login_failed", label, "unknown login", client_ip)
        raise locked if failures > settings.YIWANG_LOGIN_MAX_FAILURES else wrong
    account = getattr(user, "account", None) if hasattr(user, "account") else None
    if account is not None and account.is_locked(now):
        _audit_sign_in(user, "identity.login_failed", label, "account locked", client_ip)
        raise locked
    if not user.check_password(password):
        _note_ip_failure(client_ip)
        with transaction.atomic():
            if account is not None:
                # Counted in the database under a row lock: parallel guesses each count (no read-then-write race).
                locked_row = Account.objects.select_for_update().get(pk=account.pk)
                failures = locked_row.failed_logins + 1
                locked_until = now + lock if failures >= settings.YIWANG_LOGIN_MAX_FAILURES else None
                Account.objects.filter(pk=account.pk).update(
                    failed_logins=0 if locked_until else failures, locked_until=locked_until
                )
            _audit_sign_in(user, "identity.login_failed", label, "wrong password", client_ip)
        raise wrong
    with transaction.atomic():
        if account is not None and (account.failed_logins or account.locked_until):
            Account.objects.filter(pk=account.pk).update(failed_logins=0, locked_until=None)
        User.objects.filter(pk=user.pk).update(last_login=now)
        _audit_sign_in(user, "identity.login", label, "password", client_ip)
    return user


def _incr(key: str) -> int:
    cache.add(key, 0, timeout=settings.YIWANG_LOGIN_LOCK_SECONDS)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.YIWANG_LOGIN_LOCK_SECONDS)
        return 1


def _note_ip_failure(ip: str) -> None:
    if ip:
        _incr(_ip_key(ip))


def _audit_sign_in(user: User | None, action: str, label: str, note: str, ip: str) -> None:
    with transaction.atomic():
        audit.record(
            actor=user if user is not None else LOGIN_SYSTEM,
            action=action,
            object_type="auth.user",
            object_id=user.pk if user else "",
            object_label=label,
            note=f"{note}; ip={ip}" if ip else note,
        )


def record_sign_out(*, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action="identity.logout", object_type="auth.user", object_id=actor.pk)


def change_password(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise _invalid("old_password", _("The current password is wrong."))
    _check_password(new_password, actor)
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password"])
        audit.record(actor=actor, action="identity.password_changed", object_type="auth.user", object_id=actor.pk)


# --- one-time SMS codes: sign-in and password reset -----------------------------------------------


def _code_hash(code: str, phone_index: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone_index}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(*, phone: str, purpose: CodePurpose) -> None:
    """Send a 6-digit code to ``phone``. For sign-in and reset the code goes only to a number that belongs
    to an account, but the caller is told the same either way (no account enumeration by phone)."""
    phone = clean_phone(phone)
    index = phone_index(phone)
    # One code a minute per number and purpose (SMS costs money, floods annoy), counted for every number —
    # whether it has an account or not, so the limit itself does not reveal which numbers are registered.
    if not cache.add(f"identity:code-sent:{purpose}:{index}", 1, timeout=60):
        raise _invalid("phone", _("A code was sent less than a minute ago. Please wait before asking again."))
    if purpose in {CodePurpose.LOGIN, CodePurpose.RESET} and not _confirmed_accounts(index).exists():
        return
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        OneTimeCode.objects.filter(phone_index=index, purpose=purpose, used_at__isnull=True).update(used_at=now)
        OneTimeCode.objects.create(
            purpose=purpose,
            phone_index=index,
            code_hash=_code_hash(code, index),
            expires_at=now + dt.timedelta(seconds=settings.YIWANG_SMS_CODE_SECONDS),
        )
        minutes = max(1, settings.YIWANG_SMS_CODE_SECONDS // 60)
        # The message is in Chinese whatever the page language: it goes to a mainland phone.
        messaging.send_sms(phone, f"【一网通办】验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。")
        audit.record(
            actor=LOGIN_SYSTEM,
            action="identity.code_sent",
            object_type="identity.code",
            object_id="",
            object_label=mask_phone(phone),
            note=str(purpose),
        )


def _confirmed_accounts(phone_index: str) -> QuerySet[Account]:
    """Accounts that proved this number: an unconfirmed number (typed by anyone at registration) opens nothing."""
    return Account.objects.select_related("user").filter(phone_index=phone_index, phone_confirmed_at__isnull=False)


def request_phone_confirmation(*, actor: User) -> None:
    """Send a code to the account's own number, to confirm it belongs to the account holder."""
    account = _account(actor)
    if not account.phone:
        raise _invalid("phone", _("This account has no phone number."))
    request_code(phone=account.phone, purpose=CodePurpose.REGISTER)


def confirm_phone(*, actor: User, code: str) -> Account:
    account = _account(actor)
    _use_code(phone=account.phone, purpose=CodePurpose.REGISTER, code=code)
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(phone_confirmed_at=timezone.now())
        audit.record(
            actor=actor,
            action="identity.phone_confirmed",
            object_type="identity.account",
            object_id=account.pk,
            object_label=account.masked_phone,
        )
    account.refresh_from_db()
    return account


def _use_code(*, phone: str, purpose: CodePurpose, code: str) -> None:
    """Use a code once. The check commits on its own, so a wrong guess counts against the code even though
    the caller then fails; after ``YIWANG_SMS_CODE_ATTEMPTS`` wrong guesses the code is dead."""
    index = phone_index(phone)
    now = timezone.now()
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_index=index, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        ok = (
            otp is not None
            and otp.attempts < settings.YIWANG_SMS_CODE_ATTEMPTS
            and hmac.compare_digest(otp.code_hash, _code_hash((code or "").strip(), index))
        )
        if otp is not None:
            if ok:
                OneTimeCode.objects.filter(pk=otp.pk).update(used_at=now)
            else:
                OneTimeCode.objects.filter(pk=otp.pk).update(attempts=otp.attempts + 1)
    if not ok:
        raise _invalid("code", _("The code is wrong or has expired. Ask for a new one."))


def sign_in_with_code(*, phone: str, code: str, client_ip: str = "") -> User:
    phone = clean_phone(phone)
    index = phone_index(phone)
    if client_ip and cache.get(_ip_key(client_ip), 0) >= settings.YIWANG_LOGIN_MAX_FAILURES * 4:
        _audit_sign_in(None, "identity.login_failed", mask_phone(phone), "sms; address throttled", client_ip)
        raise AccountLocked(_("Too many failed sign-ins. Try again later or reset the password by SMS."))
    accounts = list(_confirmed_accounts(index)[:2])
    # A number shared by two accounts (a family phone) cannot say whose account to open: password only.
    account = accounts[0] if len(accounts) == 1 else None
    try:
        _use_code(phone=phone, purpose=CodePurpose.LOGIN, code=code)
    except InvalidInput:
        _note_ip_failure(client_ip)
        _audit_sign_in(account.user if account else None, "identity.login_failed", mask_phone(phone), "sms", client_ip)
        raise
    if account is None or not account.user.is_active:
        _audit_sign_in(None, "identity.login_failed", mask_phone(phone), "sms; no single account", client_ip)
        raise _invalid("code", _("The code is wrong or has expired. Ask for a new one."))
    if account.is_locked():
        _audit_sign_in(account.user, "identity.login_failed", mask_phone(phone), "sms; account locked", client_ip)
        raise AccountLocked(_("Too many failed sign-ins. Try again later or reset the password by SMS."))
    _audit_sign_in(account.user, "identity.login", mask_phone(phone), "sms code", client_ip)
    return account.user


def reset_password(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password after proving the phone; also lifts a lockout."""
    phone = clean_phone(phone)
    confirmed = list(_confirmed_accounts(phone_index(phone))[:2])
    account = confirmed[0] if len(confirmed) == 1 else None
    # Strength is checked the same way whether or not the number has an account (no enumeration by reply).
    _check_password(new_password, account.user if account is not None else None)
    _use_code(phone=phone, purpose=CodePurpose.RESET, code=code)
    if account is None:
        raise _invalid("code", _("The code is wrong or has expired. Ask for a new one."))
    user = account.user
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Account.objects.filter(pk=account.pk).update(failed_logins=0, locked_until=None)
        audit.record(actor=user, action="identity.password_reset", object_type="auth.user", object_id=user.pk)
    return user


# --- second factor (TOTP) for staff ---------------------------------------------------------------


def _refuse_while_throttled(device: TOTPDevice) -> None:
    # django-otp refuses every token for 1 s, 2 s, 4 s … after failures; saying "wrong" then would mislead.
    allowed, detail = device.verify_is_allowed()
    if not allowed:
        seconds = ""
        if detail and detail.get("locked_until") is not None:
            seconds = str(max(1, int((detail["locked_until"] - timezone.now()).total_seconds()) + 1))
        raise _invalid(
            "token",
            _("Too many wrong codes. Wait %(seconds)s seconds and try again.") % {"seconds": seconds or "1"},
        )


def start_totp_enrolment(*, actor: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for ``actor``; it counts only after ``confirm_totp``."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=actor, name=_("Authenticator app"), confirmed=False)
        audit.record(actor=actor, action="identity.mfa_enrolment_started", object_type="otp.totp", object_id=device.pk)
    return device


def confirm_totp(*, actor: User, device: TOTPDevice, token: str) -> TOTPDevice:
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionDenied(_("This authenticator is not yours to confirm."))
    _refuse_while_throttled(device)
    if not device.verify_token((token or "").strip()):
        with transaction.atomic():
            audit.record(actor=actor, action="identity.mfa_failed", object_type="otp.totp", object_id=device.pk)
        raise _invalid("token", _("The code from the authenticator app is wrong. Check the phone's clock and retry."))
    with transaction.atomic():
        # One confirmed authenticator per person: a new one replaces the old.
        TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(actor=actor, action="identity.mfa_enrolled", object_type="otp.totp", object_id=device.pk)
    return device


def verify_totp(*, actor: User, token: str) -> TOTPDevice:
    """The confirmed device that accepts ``token`` (django-otp refuses reuse of a token within its step)."""
    refusal: InvalidInput | None = None
    for device in TOTPDevice.objects.filter(user=actor, confirmed=True):
        try:
            _refuse_while_throttled(device)
        except InvalidInput as exc:
            refusal = exc
            continue
        if device.verify_token((token or "").strip()):
            return device
    with transaction.atomic():
        audit.record(actor=actor, action="identity.mfa_failed", object_type="auth.user", object_id=actor.pk)
    raise refusal or _invalid(
        "token", _("The code from the authenticator app is wrong. Check the phone's clock and retry.")
    )


def reset_totp(*, actor: Actor, user: User) -> None:
    """An administrator removes a staff member's authenticator (lost phone); they enrol again at next sign-in."""
    authz.check(actor, "identity.manage_staff")
    with transaction.atomic():
        count, _detail = TOTPDevice.objects.filter(user=user).delete()
        audit.record(
            actor=actor,
            action="identity.mfa_reset",
            object_type="auth.user",
            object_id=user.pk,
            after={"removed": count},
        )


# --- staff and roles ------------------------------------------------------------------------------


def ensure_roles(*, actor: Actor) -> None:
    """One Django group per role (its admin permissions); scope comes from the staff account, not the group."""
    from yiwang.catalogue import services as catalogue

    catalogue.ensure_roles(actor=actor)
    admin_perms = Permission.objects.filter(
        # Not otp_totp or auth: authenticators and roles change only through reset_totp / set_staff_roles (audited),
        # never by editing devices or groups directly.
        content_type__app_label__in=["identity", "registers", "oauth2_provider", "catalogue"]
    )
    with transaction.atomic():
        for role in Role:
            group, _created = Group.objects.get_or_create(name=str(role))
            if role == Role.ADMINISTRATOR:
                group.permissions.add(*admin_perms)
        audit.record(
            actor=actor, action="identity.roles_ensured", object_type="auth.group", object_id="*", after=list(Role)
        )


def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(roles))
    unknown = [r for r in chosen if r not in Role.values]
    if unknown:
        raise _invalid("roles", _("Unknown role: %(role)s") % {"role": ", ".join(unknown)})
    if not chosen:
        raise _invalid("roles", _("A staff member needs at least one role."))
    return chosen


def create_staff(
    *,
    actor: Actor,
    username: str,
    name: str,
    department: Organisation,
    division_code: str,
    roles: Iterable[str],
    password: str,
    phone: str = "",
) -> User:
    """A staff member of one department and region, with roles; the second factor is enrolled at first sign-in."""
    authz.check(actor, "identity.manage_staff")
    chosen = _clean_roles(roles)
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,60}", username) or username.startswith("p-"):
        raise _invalid("username", _("User names have 3–60 letters, digits, dots, dashes or underscores."))
    if User.objects.filter(username=username).exists():
        raise _invalid("username", _("This user name is taken."))
    division = Division.objects.filter(code=division_code).first()
    if division is None:
        raise _invalid("division", _("Unknown region code."))
    name = clean_name(name)
    phone = clean_phone(phone) if phone else ""
    _check_password(password, User(username=username, first_name=name))
    ensure_roles(actor=actor)
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=name,
            # The admin site is for catalogue managers and administrators; others work in the portal workbench.
            is_staff=bool({Role.CATALOGUE_MANAGER, Role.CATALOGUE_PUBLISHER, Role.ADMINISTRATOR} & set(chosen)),
        )
        user.groups.set(Group.objects.filter(name__in=chosen))
        account = Account.objects.create(
            user=user,
            kind=AccountKind.STAFF,
            real_name=name,
            department=department,
            division=division,
            phone=phone,
            phone_index=phone_index(phone) if phone else "",
            # Entered by an administrator from the staff record, not typed by the holder: treated as confirmed.
            phone_confirmed_at=timezone.now() if phone else None,
            real_name_status=RealNameStatus.VERIFIED,
            verified_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="identity.staff_created",
            object_type="identity.account",
            object_id=account.pk,
            object_label=f"{name} ({username})",
            after={"department": department.pk, "division": division.code, "roles": chosen},
        )
    return user


def set_staff_roles(*, actor: Actor, user: User, roles: Iterable[str]) -> None:
    authz.check(actor, "identity.manage_staff")
    if authz.subject_of(user).kind != AccountKind.STAFF:
        raise _invalid("roles", _("Roles are for staff accounts; a personal account cannot hold one."))
    chosen = _clean_roles(roles)
    with transaction.atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.set(Group.objects.filter(name__in=chosen))
        audit.record(
            actor=actor,
            action="identity.roles_changed",
            object_type="auth.user",
            object_id=user.pk,
            object_label=user.get_username(),
            before=before,
            after=sorted(chosen),
        )
    authz.forget(user)


# --- enterprises and agency -----------------------------------------------------------------------


def bind_enterprise(*, actor: User, uscc: str, name: str) -> Enterprise:
    """The legal representative binds their enterprise: the legal-entity register must confirm the code, the
    name, that it is in business, and that the representative's ID number is the actor's."""
    from yiwang.registers import selectors as registers

    code = clean_uscc(uscc)
    account = _account(actor)
    if not account.is_verified:
        raise PermissionDenied(_("Verify your real name before binding an enterprise."))
    entity = registers.find_entity(code)
    if entity is None:
        raise _invalid("uscc", _("The legal-entity register has no entity with this code."))
    if not registers.names_match(entity.name, name):
        raise _invalid("name", _("The name does not match the legal-entity register for this code."))
    if entity.status != "active":
        raise _invalid("uscc", _("This entity is not in business (deregistered or revoked)."))
    if entity.legal_representative_index != account.id_number_index:
        raise PermissionDenied(_("Only the registered legal representative can bind this enterprise."))
    existing = Enterprise.objects.filter(uscc=code).first()
    if existing is not None and existing.representative_id == actor.pk:
        raise _invalid("uscc", _("This enterprise is already bound."))
    with transaction.atomic():
        if existing is not None:
            # The register now names the actor: the legal representative changed, and the account moves to them.
            # Agencies the previous representative granted stay, but only the new one can grant or revoke.
            before = {"representative": existing.representative_id}
            Enterprise.objects.filter(pk=existing.pk).update(representative=actor, name=entity.name)
            audit.record(
                actor=actor,
                action="identity.enterprise_rebound",
                object_type="identity.enterprise",
                object_id=existing.pk,
                object_label=f"{entity.name} ({code})",
                before=before,
                after={"representative": actor.pk},
                on_behalf_of=f"enterprise:{code}",
            )
            existing.refresh_from_db()
            return existing
        enterprise = Enterprise.objects.create(uscc=code, name=entity.name, representative=actor)
        audit.record(
            actor=actor,
            action="identity.enterprise_bound",
            object_type="identity.enterprise",
            object_id=enterprise.pk,
            object_label=f"{entity.name} ({code})",
            on_behalf_of=f"enterprise:{code}",
        )
    return enterprise


def _register_still_confirms(enterprise: Enterprise) -> bool:
    """The legal-entity register still lists the enterprise in business, with its bound representative."""
    from yiwang.registers import selectors as registers

    entity = registers.find_entity(enterprise.uscc)
    representative = getattr(enterprise.representative, "account", None)
    return (
        entity is not None
        and entity.status == "active"
        and representative is not None
        and entity.legal_representative_index == representative.id_number_index
    )


def _agent_account(id_number: str, name: str) -> Account:
    number = clean_id_number(id_number)
    account = (
        Account.objects.select_related("user")
        .filter(id_number_index=id_number_index(number), kind=AccountKind.PERSON)
        .first()
    )
    if account is None:
        raise _invalid("agent_id_number", _("No personal account has this ID number. The agent must register first."))
    if account.real_name != clean_name(name):
        raise _invalid("agent_name", _("The agent's name does not match the account with this ID number."))
    if not account.is_verified:
        raise _invalid("agent_id_number", _("The agent has not verified their real name yet."))
    return account


def _clean_period(valid_from: dt.datetime | None, valid_until: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    now = timezone.now()
    start = valid_from or now
    # Authority cannot be granted backwards for acts already done; today (local) is the earliest start.
    if start < timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0):
        raise _invalid("valid_from", _("An agency cannot start in the past."))
    if valid_until <= start:
        raise _invalid("valid_until", _("The end of the period must be after its start."))
    if valid_until <= now:
        raise _invalid("valid_until", _("The period has already ended."))
    if valid_until - start > dt.timedelta(days=MAX_AGENCY_DAYS):
        raise _invalid("valid_until", _("An agency lasts at most three years; renew it when it ends."))
    return start, valid_until


def _clean_item_codes(all_items: bool, item_codes: Iterable[str]) -> list[str]:
    codes = sorted({c.strip() for c in item_codes if c and c.strip()})
    if all_items:
        return []
    if not codes:
        raise _invalid("item_codes", _("Choose all items or list at least one item."))
    known = set(BasicItem.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise _invalid("item_codes", _("Unknown item codes: %(codes)s") % {"codes": ", ".join(unknown)})
    return codes


def grant_agency(
    *,
    actor: User,
    agent_id_number: str,
    agent_name: str,
    valid_until: dt.datetime,
    enterprise: Enterprise | None = None,
    all_items: bool = False,
    item_codes: Iterable[str] = (),
    valid_from: dt.datetime | None = None,
) -> Agency:
    """Grant an agent authority: for an enterprise (only its legal representative grants), or for oneself
    (a natural person's proxy, 委托代办). Every act the agent does later records both identities."""
    if enterprise is not None and enterprise.representative_id != actor.pk:
        raise PermissionDenied(_("Only the enterprise's legal representative can grant agency."))
    if enterprise is not None and not _register_still_confirms(enterprise):
        raise PermissionDenied(
            _("The legal-entity register no longer lists this enterprise in business with you as its representative.")
        )
    principal = _account(actor)
    if enterprise is None and not principal.is_verified:
        raise PermissionDenied(_("Verify your real name before appointing a proxy."))
    agent = _agent_account(agent_id_number, agent_name)
    if agent.user_id == actor.pk and enterprise is None:
        raise _invalid("agent_id_number", _("You cannot appoint yourself as your own proxy."))
    start, end = _clean_period(valid_from, valid_until)
    codes = _clean_item_codes(all_items, item_codes)
    existing = Agency.objects.filter(agent=agent.user, revoked_at__isnull=True, valid_until__gt=timezone.now())
    existing = existing.filter(enterprise=enterprise) if enterprise else existing.filter(principal_user=actor)
    if existing.exists():
        raise _invalid(
            "agent_id_number", _("This agent already holds an agency from you; revoke it before granting anew.")
        )
    with transaction.atomic():
        agency = Agency.objects.create(
            principal_kind=PrincipalKind.ENTERPRISE if enterprise else PrincipalKind.PERSON,
            enterprise=enterprise,
            principal_user=None if enterprise else actor,
            agent=agent.user,
            all_items=all_items,
            item_codes=codes,
            valid_from=start,
            valid_until=end,
            granted_by=actor,
        )
        audit.record(
            actor=actor,
            action="identity.agency_granted",
            object_type="identity.agency",
            object_id=agency.pk,
            object_label=f"{agency.principal_label} → {agent.real_name} {agent.masked_id_number}",
            after={
                "all_items": all_items,
                "item_codes": codes,
                "valid_from": start.isoformat(),
                "valid_until": end.isoformat(),
            },
            on_behalf_of=agency.principal_label,
        )
    return agency


def revoke_agency(*, actor: User, agency: Agency) -> Agency:
    """The principal (or the enterprise's representative) ends an agency; the agent may also renounce it."""
    is_principal = (agency.enterprise is not None and agency.enterprise.representative_id == actor.pk) or (
        agency.principal_user_id == actor.pk
    )
    if not (is_principal or agency.agent_id == actor.pk):
        raise PermissionDenied(_("Only the principal or the agent can end this agency."))
    with transaction.atomic():
        changed = Agency.objects.filter(pk=agency.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if not changed:
            raise _invalid("agency", _("This agency has already been revoked."))
        audit.record(
            actor=actor,
            action="identity.agency_revoked",
            object_type="identity.agency",
            object_id=agency.pk,
            object_label=agency.principal_label,
            on_behalf_of=agency.principal_label,
        )
    agency.refresh_from_db()
    return agency


def agency_for_act(*, agent: Any, agency_id: int, basic_code: str | None = None) -> Agency:
    """The agency under which ``agent`` acts now, checked: theirs, in force, covering the item.

    Callers that act on behalf of a principal (applications, later) call this on every act and pass
    ``agency.principal_label`` to ``audit.record(on_behalf_of=...)``, so both identities are on record.
    """
    # Joined so that the register re-check and the principal's name (shown on every page while acting) cost
    # no further queries.
    agency = (
        Agency.objects.select_related("enterprise__representative__account", "principal_user__account")
        .filter(pk=agency_id, agent=agent)
        .first()
    )
    if agency is None:
        raise NotFound(_("No such agency for you."))
    status = agency.status_at(timezone.now())
    if status == AgencyStatus.REVOKED:
        raise PermissionDenied(_("This agency has been revoked."))
    if status == AgencyStatus.EXPIRED:
        until = timezone.localtime(agency.valid_until)
        raise PermissionDenied(_("This agency expired on %(date)s.") % {"date": f"{until:%Y-%m-%d %H:%M}"})
    if status == AgencyStatus.NOT_YET:
        start = timezone.localtime(agency.valid_from)
        raise PermissionDenied(_("This agency starts on %(date)s.") % {"date": f"{start:%Y-%m-%d %H:%M}"})
    if agency.enterprise is not None and not _register_still_confirms(agency.enterprise):
        # Authority flows from the register: a deregistered entity or a changed representative suspends it.
        raise PermissionDenied(
            _("The enterprise is no longer in business or its legal representative changed; this agency is suspended.")
        )
    if basic_code is not None and not agency.covers(basic_code):
        raise PermissionDenied(_("This agency does not cover this item."))
    return agency


def stop_acting(*, actor: User, agency: Agency | None) -> None:
    """The agent goes back to acting for themselves (recorded, like the start)."""
    if agency is None:
        return
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="identity.acting_stopped",
            object_type="identity.agency",
            object_id=agency.pk,
            on_behalf_of=agency.principal_label,
        )


def start_acting(*, actor: User, agency_id: int) -> Agency:
    """Switch the session to act for a principal; recorded so the switch itself is on the audit trail."""
    agency = agency_for_act(agent=actor, agency_id=agency_id)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="identity.acting_started",
            object_type="identity.agency",
            object_id=agency.pk,
            on_behalf_of=agency.principal_label,
        )
    return agency
