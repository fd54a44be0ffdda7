"""``yiwang oidc_client register|rotate-secret|disable|list``: department systems as OIDC/OAuth2 clients."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError
from yiwang.identity import clients
from yiwang.identity.models_oidc import ClientKind
from yiwang.identity.oidc import policy_of

ACTOR = SystemActor("cli:oidc_client")


def _domain_error(exc: DomainError) -> CommandError:
    lines = [str(exc.message)] + [f"  {d.get('field', '')}: {d.get('message', '')}" for d in exc.details[1:]]
    return CommandError("\n".join(lines))


def _application(client_id: str) -> Any:
    try:
        return get_application_model().objects.get(client_id=client_id)
    except get_application_model().DoesNotExist:
        raise CommandError(_("No client with the client ID %(client_id)s.") % {"client_id": client_id}) from None


def _department(value: str | None) -> Organisation | None:
    if not value:
        return None
    found = Organisation.objects.filter(uscc=value).first()
    if found is None and value.isdigit():
        found = Organisation.objects.filter(pk=int(value)).first()
    if found is None:
        raise CommandError(_("No organisation with the code or id %(value)s.") % {"value": value})
    return found


class Command(BaseCommand):
    help = "Register, rotate the secret of, disable or list the department systems that sign users in through Yiwang."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reg = sub.add_parser("register", help="Register a client; prints its client ID and secret (shown once).")
        reg.add_argument("--name", required=True)
        reg.add_argument("--kind", choices=ClientKind.values, required=True)
        reg.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        reg.add_argument("--post-logout-redirect-uri", action="append", default=[], dest="post_logout_redirect_uris")
        reg.add_argument("--scope", action="append", default=[], dest="scopes", help="Repeat for each scope.")
        reg.add_argument("--department", help="USCC or id of the department (catalogue organisation).")
        reg.add_argument("--may-receive-id-numbers", action="store_true")
        rot = sub.add_parser("rotate-secret", help="Issue a new client secret; the old one stops working.")
        rot.add_argument("client_id")
        dis = sub.add_parser("disable", help="Disable a client and revoke its tokens.")
        dis.add_argument("client_id")
        dis.add_argument("--reason", default="")
        sub.add_parser("list", help="List the registered clients.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except DomainError as exc:
            raise _domain_error(exc) from None

    def _register(self, options: dict[str, Any]) -> None:
        application, secret = clients.register_client(
            actor=ACTOR,
            name=options["name"],
            kind=options["kind"],
            redirect_uris=options["redirect_uris"],
            post_logout_redirect_uris=options["post_logout_redirect_uris"],
            allowed_scopes=options["scopes"],
            department=_department(options["department"]),
            may_receive_id_numbers=options["may_receive_id_numbers"],
        )
        self.stdout.write(f"client_id: {application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stderr.write(_("Store the client secret now: it is kept only as a hash and cannot be shown again."))

    def _rotate_secret(self, options: dict[str, Any]) -> None:
        application = _application(options["client_id"])
        secret = clients.rotate_client_secret(actor=ACTOR, application=application)
        self.stdout.write(f"client_id: {application.client_id}")
        self.stdout.write(f"client_secret: {secret}")

    def _disable(self, options: dict[str, Any]) -> None:
        application = _application(options["client_id"])
        clients.disable_client(actor=ACTOR, application=application, reason=options["reason"])
        self.stdout.write(_("Disabled %(client_id)s.") % {"client_id": application.client_id})

    def _list(self, options: dict[str, Any]) -> None:
        for application in get_application_model().objects.select_related("policy").order_by("name", "pk"):
            policy = policy_of(application)
            kind = policy.kind if policy else "-"
            scopes = " ".join(policy.allowed_scopes) if policy else ""
            state = "active" if policy and policy.is_active else "disabled"
            self.stdout.write(f"{application.client_id}\t{kind}\t{state}\t{application.name}\t{scopes}")
