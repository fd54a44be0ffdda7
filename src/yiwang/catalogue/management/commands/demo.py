"""``yiwang demo``: load the demo catalogue, its documents and demo accounts (idempotent; used by ``make run``)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import handling, services
from yiwang.catalogue.documents import attach_generated_documents
from yiwang.catalogue.models import ItemVersion
from yiwang.conf.env import env_str


def _demo_json(name: str) -> Any:
    return json.loads(resources.files("yiwang.catalogue").joinpath("demo", name).read_text(encoding="utf-8"))


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (published items and drafts with violations), generated blank forms and "
        "samples for the documents the items reference, and demo accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo accounts.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = SystemActor("demo")
        services.ensure_roles(actor=actor)
        for org in _demo_json("organisations.json"):
            services.upsert_organisation(
                actor=actor,
                name=org["name"],
                name_en=org.get("name_en", ""),
                uscc=org.get("uscc"),
                nature=org.get("nature", ""),
                division_code=org.get("division"),
            )
        if ItemVersion.objects.exists():
            self.stdout.write(_("The catalogue already has items; demo items not imported again."))
        else:
            report = handling.import_demo_items(actor=actor, items=_demo_json("items.json")["items"])
            drafts = services.import_items(actor=actor, items=_demo_json("drafts.json")["items"])
            self.stdout.write(
                _("Demo catalogue: %(published)d published items, %(drafts)d drafts.")
                % {"published": report.published, "drafts": drafts.created}
            )
        codes = [
            item["implementation_code"]
            for name in ("items.json", "drafts.json")
            for item in _demo_json(name)["items"]
            if item.get("implementation_code")
        ]
        attached = attach_generated_documents(actor=actor, implementation_codes=codes)
        if attached:
            self.stdout.write(_("Demo documents: %(count)d blank forms and samples attached.") % {"count": attached})
        if not options["no_users"]:
            self._users()
            self._cases()

    def _users(self) -> None:
        from yiwang.identity.demo import load_demo_accounts

        password = env_str("YIWANG_DEMO_PASSWORD", "yiwang-demo")
        created = load_demo_accounts(password=password)
        if created:
            self.stdout.write(
                _("Demo accounts: %(count)d created (password: %(password)s); see README.md.")
                % {"count": len(created), "password": password}
            )

    def _cases(self) -> None:
        from yiwang.cases.demo import load_demo_bundles, load_demo_cases
        from yiwang.licences import demo as licences_demo
        from yiwang.licences import render
        from yiwang.registers import demo as registers_demo

        seals, defined = licences_demo.load_demo_pki_and_types()
        if seals or defined:
            self.stdout.write(
                _("Demo licences: %(seals)d department seals, %(types)d licence types.")
                % {"seals": seals, "types": defined}
            )
        elif render.font_path() is None:
            self.stdout.write(
                _("No CJK TrueType font (Debian: fonts-wqy-zenhei): the demo issues no electronic licences.")
            )
        # Before the cases: the enterprise's agent then finds the business licence in the enterprise's wallet.
        licences_demo.load_demo_enterprise_licence(
            registers_demo.DEMO_ENTERPRISE_USCC, registers_demo.DEMO_ENTERPRISE_NAME
        )
        # Before the cases: their materials can then be fetched under the departments' grants (once-only).
        from yiwang.sharing.demo import load_demo as load_sharing_demo

        resources, grants = load_sharing_demo()
        if resources or grants:
            self.stdout.write(
                _("Demo data sharing: %(resources)d department resources, %(grants)d grants.")
                % {"resources": resources, "grants": grants}
            )
        bundles, cases = load_demo_bundles(), load_demo_cases()
        if bundles or cases:
            self.stdout.write(
                _("Demo cases: %(cases)d cases at several stages, %(bundles)d one-thing bundle(s).")
                % {"cases": cases, "bundles": bundles}
            )
        # After the cases: a department system reads 张三's data for one of them (the exchange API's demo client).
        from yiwang.sharing.demo import DEMO_SYSTEM_FILE, load_demo_reads

        if load_demo_reads():
            self.stdout.write(
                _("Demo exchange client: its id, secret and signing key are in %(file)s.")
                % {"file": f"$YIWANG_DATA_DIR/{DEMO_SYSTEM_FILE}"}
            )
