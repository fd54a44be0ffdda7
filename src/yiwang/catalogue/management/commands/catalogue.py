"""``yiwang catalogue import|check|export|import-xlsx|apply-schedule``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import selectors, services
from yiwang.catalogue.rules import ERROR
from yiwang.common.errors import DomainError


def _load_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(error)s (line %(line)d, column %(column)d)")
            % {"path": path, "error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from None


def _domain_error(exc: DomainError) -> CommandError:
    lines = [str(exc.message)] + [
        f"  {d.get('path') or d.get('element', '')}: {d.get('message', '')}" for d in exc.details
    ]
    return CommandError("\n".join(lines))


class Command(BaseCommand):
    help = "Import, check and export the service catalogue in the exchange format."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help='Import items (one item or {"items": [...]}) as drafts, all or nothing.')
        imp.add_argument("file")
        imp.add_argument("--publish", action="store_true", help="Publish items that pass every rule.")
        chk = sub.add_parser("check", help="Print every schema and quality-rule violation; exit 1 if any.")
        chk.add_argument("file")
        chk.add_argument("--json", action="store_true", dest="as_json")
        exp = sub.add_parser("export", help="Export the current catalogue.")
        exp.add_argument("--format", choices=["json", "cpsv-ttl", "cpsv-jsonld"], default="json")
        exp.add_argument("--out", default="-")
        exp.add_argument("--include-drafts", action="store_true")
        xl = sub.add_parser("import-xlsx", help="Import a spreadsheet with a row-by-row error report.")
        xl.add_argument("file")
        xl.add_argument("--publish", action="store_true")
        tpl = sub.add_parser("xlsx-template", help="Write an empty spreadsheet template (or the current catalogue).")
        tpl.add_argument("--out", required=True)
        tpl.add_argument("--with-items", action="store_true", help="Fill it with the current published items.")
        sub.add_parser("apply-schedule", help="Apply planned effective and cancel dates that have passed.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        actor = SystemActor("cli")
        if action == "import":
            self._import(actor, options["file"], publish=options["publish"])
        elif action == "check":
            self._check(options["file"], as_json=options["as_json"])
        elif action == "export":
            self._export(options["format"], options["out"], include_drafts=options["include_drafts"])
        elif action == "import-xlsx":
            from yiwang.catalogue.spreadsheet import import_workbook_command

            import_workbook_command(self, actor, options["file"], publish=options["publish"])
        elif action == "xlsx-template":
            from yiwang.catalogue.spreadsheet import write_template

            items = selectors.export_contents() if options["with_items"] else None
            write_template(options["out"], items)
            self.stdout.write(_("Wrote %(path)s.") % {"path": options["out"]})
        elif action == "apply-schedule":
            changed = services.apply_schedule(actor=SystemActor("scheduler"))
            self.stdout.write(_("%(count)d versions changed status.") % {"count": changed})

    def _import(self, actor: SystemActor, path: str, *, publish: bool) -> None:
        try:
            items = services.parse_document(_load_json(path))
            report = services.import_items(actor=actor, items=items, publish_clean=publish)
        except DomainError as exc:
            raise _domain_error(exc) from None
        blocked = sum(1 for v in report.violations.values() if any(x.severity == ERROR for x in v))
        self.stdout.write(
            _(
                "Imported %(total)d items: %(created)d new, %(updated)d updated, %(published)d published, "
                "%(blocked)d with violations."
            )
            % {
                "total": len(items),
                "created": report.created,
                "updated": report.updated,
                "published": report.published,
                "blocked": blocked,
            }
        )

    def _check(self, path: str, *, as_json: bool) -> None:
        document = _load_json(path)
        rows: list[dict[str, str]] = []
        try:
            items = services.parse_document(document)
        except DomainError as exc:
            rows = [
                {
                    "rule": "SCHEMA",
                    "item": "",
                    "element": d.get("path", ""),
                    "message": d.get("message", ""),
                    "severity": ERROR,
                }
                for d in exc.details
            ] or [{"rule": "SCHEMA", "item": "", "element": "$", "message": str(exc.message), "severity": ERROR}]
            items = []
        # A file is checked for the quality of its guides; whether this platform issues a result's licence type
        # (Y8) is about the platform's state, reported where items are kept and published, not here.
        context = services.rule_context()
        context.licence_type_defined = lambda code: True
        for item in items:
            label = item.get("implementation_code") or item.get("name", "")
            rows.extend(v.as_dict(label) for v in services.check_document(item, context))
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for row in rows:
                self.stdout.write(
                    f"{row['item']}\t{row['rule']}\t{row['severity']}\t{row['element']}\t{row['message']}"
                )
            self.stdout.write(_("%(count)d violations in %(items)d items.") % {"count": len(rows), "items": len(items)})
        if any(row["severity"] == ERROR for row in rows):
            sys.exit(1)

    def _export(self, fmt: str, out: str, *, include_drafts: bool) -> None:
        if fmt == "json":
            text = json.dumps(
                {"items": selectors.export_contents(include_drafts=include_drafts)}, ensure_ascii=False, indent=2
            )
        else:
            from yiwang.catalogue.exports import cpsv_text

            text = cpsv_text("turtle" if fmt == "cpsv-ttl" else "json-ld")
        if out == "-":
            self.stdout.write(text)
        else:
            Path(out).write_text(text + "\n", encoding="utf-8")
