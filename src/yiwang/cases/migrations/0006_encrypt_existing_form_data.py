"""Form answers written before 0002 (plain JSON) are encrypted in place, and transitions recorded before the
fingerprints keep fingerprints instead of the answers (transitions are kept for ever; answers hold ID numbers).

0002 changed the column's type only: rows already there stayed readable JSON text, which the encrypted field then
refused to read. Rows already encrypted (Fernet tokens start with "gAAAA") are left alone, so this is safe to run
on any database, however far it had migrated.
"""

from typing import Any

from django.db import migrations

from yiwang.common.crypto import encrypt

BATCH = 1000


def _encrypt_table(schema_editor: Any, table: str) -> None:
    connection = schema_editor.connection
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, data FROM {quoted} WHERE data IS NOT NULL AND data NOT LIKE 'gAAAA%%'")  # noqa: S608
        rows = cursor.fetchall()
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                f"UPDATE {quoted} SET data = %s WHERE id = %s",  # noqa: S608 - a table name of ours
                [(encrypt(value if isinstance(value, str) else str(value)), pk) for pk, value in rows[start : start + BATCH]],
            )


def forward(apps: Any, schema_editor: Any) -> None:
    from yiwang.cases.services import fingerprints

    _encrypt_table(schema_editor, "cases_case")
    _encrypt_table(schema_editor, "cases_bundleapplication")
    Transition = apps.get_model("cases", "CaseTransition")
    for transition in Transition.objects.using(schema_editor.connection.alias).filter(details__has_key="data"):
        details = dict(transition.details)
        answers = details.pop("data") or {}
        details.setdefault("fields", fingerprints(answers) if isinstance(answers, dict) else {})
        Transition.objects.filter(pk=transition.pk).update(details=details)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_paused_cases_index")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
