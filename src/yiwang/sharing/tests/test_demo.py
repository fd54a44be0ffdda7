"""What `make run` shows of data sharing: the demo's grants, once-only fetches and a department system's reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command

from yiwang.common.crypto import id_number_index
from yiwang.registers.demo import DEMO_CITIZEN_ID
from yiwang.sharing import accesslog, signing
from yiwang.sharing.constants import AccessChannel, Outcome, Refusal
from yiwang.sharing.demo import DEMO_SYSTEM_FILE
from yiwang.sharing.models import AccessRecord, SigningKey

pytestmark = pytest.mark.django_db


def test_the_demo_reads_zhang_sans_data_through_both_channels_and_keeps_the_chain() -> None:
    call_command("demo")
    call_command("demo")  # idempotent: a second run reads nothing again

    his = AccessRecord.objects.filter(subject_index=id_number_index(DEMO_CITIZEN_ID))
    fetched = his.filter(channel=AccessChannel.CASE, outcome=Outcome.ANSWERED)
    assert fetched.count() >= 1
    assert all(r.case_number and r.purpose for r in fetched)
    by_system = his.filter(channel=AccessChannel.EXCHANGE)
    assert sorted(by_system.values_list("outcome", "refusal")) == [
        (Outcome.ANSWERED, ""),
        (Outcome.REFUSED, Refusal.PURPOSE_NOT_GRANTED),
    ]
    assert accesslog.verify_chain().broken is None

    credentials = json.loads((Path(settings.DATA_DIR) / DEMO_SYSTEM_FILE).read_text())
    key = SigningKey.objects.get(key_id=credentials["key_id"])
    assert key.application.client_id == credentials["client_id"]
    private = serialization.load_pem_private_key(credentials["private_key"].encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert signing.key_id_of(private.public_key()) == key.key_id
    assert credentials["example"]["case_number"] in set(by_system.values_list("case_number", flat=True))
