"""Field encryption, blind indexes, key rotation, masking, and logs that never carry identifiers in clear."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from yiwang.common import crypto
from yiwang.common.masking import MaskPersonalDataFilter, mask_id_number, mask_phone, mask_text
from yiwang.identity import services
from yiwang.identity.models import Account
from yiwang.identity.tests.people import PEOPLE


def test_masks_follow_the_national_convention():
    assert mask_id_number("34052419800101001X") == "3405**********001X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == "" and mask_phone(None) == ""


def test_free_text_masking_finds_ids_and_phones_but_not_longer_numbers():
    text = "user 34052419800101001X phone 13812345678 order 1381234567890123"
    assert mask_text(text) == "user 3405**********001X phone 138****5678 order 1381234567890123"


def test_the_log_filter_masks_whatever_code_logs(caplog):
    logger = logging.getLogger("yiwang.test")
    handler = logging.StreamHandler()
    handler.addFilter(MaskPersonalDataFilter())
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.warning("lookup of %s from %s", "34052419800101001X", "13812345678")
    finally:
        logger.removeHandler(handler)
    assert records == ["lookup of 3405**********001X from 138****5678"]


def test_settings_install_the_filter_on_every_handler():
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    for handler in logging_config["handlers"].values():
        assert "mask_personal_data" in handler["filters"]


@given(st.text(min_size=1, max_size=40))
def test_encryption_round_trips_and_is_randomised(value):
    token = crypto.encrypt(value)
    assert crypto.decrypt(token) == value
    assert crypto.encrypt(value) != token  # random IV: equal values do not look equal at rest


def test_blind_index_is_deterministic_normalised_and_purpose_bound():
    number = "34052419800101001X"
    assert crypto.blind_index(number, purpose="id_number") == crypto.blind_index(
        " 34052419800101001x", purpose="id_number"
    )
    assert crypto.blind_index(number, purpose="id_number") != crypto.blind_index(number, purpose="phone")
    assert number not in crypto.blind_index(number, purpose="id_number")


def test_a_token_from_an_unknown_key_is_refused(settings):
    token = Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    with pytest.raises(ValueError, match="could not be decrypted"):
        crypto.decrypt(token)


def test_encrypted_fields_cannot_be_searched():
    with pytest.raises(TypeError, match="blind index"):
        Account.objects.filter(id_number="34052419800101001X").exists()


@pytest.mark.django_db
def test_key_rotation_re_encrypts_and_reindexes(settings, system, clerk, admin):
    person = PEOPLE["citizen"]
    old_key = Fernet.generate_key().decode()
    settings.YIWANG_FIELD_KEYS = [old_key]
    settings.YIWANG_BLIND_INDEX_KEY = "old-index-key"
    from yiwang.identity.tests.people import make_register_person

    make_register_person(person)
    user = services.register_person(
        actor=system, id_number=person.id_number, name=person.name, phone=person.phone, password="a long passphrase 1"
    )

    def raw() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, id_number_index FROM identity_account WHERE user_id = %s", [user.pk])
            return cursor.fetchone()  # type: ignore[no-any-return]

    token_before, index_before = raw()
    new_key = Fernet.generate_key().decode()
    settings.YIWANG_FIELD_KEYS = [new_key, old_key]  # newest first; the old one still decrypts
    settings.YIWANG_BLIND_INDEX_KEY = "new-index-key"
    assert services.find_user(person.id_number) is None  # the index key changed: lookups wait for reindex
    call_command("rotate_keys", "--reindex", verbosity=0)
    token_after, index_after = raw()
    assert token_after != token_before and index_after != index_before
    settings.YIWANG_FIELD_KEYS = [new_key]  # the old key can now be retired
    # Staff without ID numbers keep no index (two of them: the unique index must not see two "").
    assert Account.objects.filter(user__in=[clerk, admin], id_number_index__isnull=True).count() == 2
    from yiwang.registers import selectors as registers

    assert registers.find_person(person.id_number) is not None  # the population register was re-indexed too
    assert Fernet(new_key.encode()).decrypt(token_after.encode()).decode() == person.id_number
    assert Account.objects.get(user=user).id_number == person.id_number
    assert services.find_user(person.id_number) == user


def test_the_development_servers_access_log_is_masked_too():
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    handler_names = logging_config["loggers"]["django.server"]["handlers"]
    assert all("mask_personal_data" in logging_config["handlers"][h]["filters"] for h in handler_names)
