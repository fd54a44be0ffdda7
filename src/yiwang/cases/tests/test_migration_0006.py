"""Migration 0006 encrypts form answers left in plain JSON by 0002 and replaces answers kept in old transitions by
their fingerprints; rows already encrypted are left as they are."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from yiwang.cases import services
from yiwang.cases.models import Case, CaseTransition

pytestmark = pytest.mark.django_db

migration = importlib.import_module("yiwang.cases.migrations.0006_encrypt_existing_form_data")


def test_plain_answers_are_encrypted_and_old_transitions_keep_fingerprints(submitted: Callable[..., Case]) -> None:
    old, current = submitted(), submitted()
    answers = dict(old.data)
    with connection.cursor() as cursor:  # as a case written before 0002 left it
        cursor.execute("UPDATE cases_case SET data = %s WHERE id = %s", [json.dumps(answers), old.pk])
    with pytest.raises(ValueError, match="decrypted"):
        Case.objects.get(pk=old.pk)
    submit = CaseTransition.objects.get(case=old, action="submit")
    CaseTransition.objects.filter(pk=submit.pk).update(details={"data": answers})
    current_token = Case.objects.filter(pk=current.pk).values_list("data", flat=True)

    # The migration uses only the editor's connection (SQLite refuses a real schema editor inside a test's transaction).
    migration.forward(apps, SimpleNamespace(connection=connection))

    assert Case.objects.get(pk=old.pk).data == answers
    assert Case.objects.get(pk=current.pk).data == current.data
    assert list(current_token) == list(Case.objects.filter(pk=current.pk).values_list("data", flat=True))
    details = CaseTransition.objects.get(pk=submit.pk).details
    assert "data" not in details and details["fields"] == services.fingerprints(answers)
