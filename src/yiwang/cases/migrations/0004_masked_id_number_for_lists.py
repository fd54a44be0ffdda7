from typing import Any

from django.db import migrations, models

from yiwang.common.masking import mask_id_number

BATCH = 2000


def fill_masked(apps: Any, schema_editor: Any) -> None:
    """Existing cases get the masked ID number lists show (decrypted once here, never again by a list)."""
    Case = apps.get_model("cases", "Case")
    rows = Case.objects.using(schema_editor.connection.alias).only("pk", "applicant_id_number").order_by("pk")
    batch = []
    for case in rows.iterator(chunk_size=BATCH):
        if case.applicant_id_number:
            case.applicant_id_masked = mask_id_number(case.applicant_id_number)
            batch.append(case)
        if len(batch) >= BATCH:
            Case.objects.bulk_update(batch, ["applicant_id_masked"])
            batch = []
    if batch:
        Case.objects.bulk_update(batch, ["applicant_id_masked"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_open_task_queue_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="applicant_id_masked",
            field=models.CharField(
                blank=True, editable=False, max_length=32, verbose_name="applicant ID number (masked)"
            ),
        ),
        migrations.RunPython(fill_masked, migrations.RunPython.noop, elidable=True),
    ]
