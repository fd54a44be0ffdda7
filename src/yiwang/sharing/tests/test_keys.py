"""Department systems' signing keys: administrators register Ed25519 public keys for exchange clients of a
department, and retire them; everything else is refused and changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.identity import clients
from yiwang.sharing import cli_keys, keys, signing
from yiwang.sharing.models import SigningKey
from yiwang.sharing.tests.factories import machine_client

pytestmark = pytest.mark.django_db


def public_pem() -> str:
    return signing.public_pem(Ed25519PrivateKey.generate().public_key())


@pytest.fixture
def application(admin: User, department_a: Organisation) -> Any:
    return machine_client(admin, department_a)


def test_an_administrator_registers_a_key_and_it_is_audited(admin: User, application: Any) -> None:
    pem = public_pem()
    key = keys.register_signing_key(actor=admin, application=application, public_key_pem="\n  " + pem + "\n")
    assert key.key_id == signing.key_id_of(signing.load_public_pem(pem))  # type: ignore[arg-type]
    assert key.public_key == pem and key.retired_at is None
    assert keys.active_key(application, key.key_id) == key
    record = AuditRecord.objects.get(action="sharing.client_key_registered")
    assert record.after == {"client_id": application.client_id, "key_id": key.key_id}


def test_only_administrators_register_keys(request: pytest.FixtureRequest, application: Any) -> None:
    for persona in ("manager", "reviewer_a", "auditor", "citizen"):
        actor = request.getfixturevalue(persona)
        with pytest.raises(PermissionDenied):
            keys.register_signing_key(actor=actor, application=application, public_key_pem=public_pem())
    assert not SigningKey.objects.exists()


def _rsa_pem() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _ec_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _private_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def test_anything_but_an_ed25519_public_key_is_refused(admin: User, application: Any) -> None:
    bad_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    for pem in (_rsa_pem(), _ec_pem(), _private_pem(), "", "not a key", bad_pem, "x" * 5000):
        with pytest.raises(InvalidInput) as caught:
            keys.register_signing_key(actor=admin, application=application, public_key_pem=pem)
        assert caught.value.details[0]["field"] == "public_key"
    assert not SigningKey.objects.exists()


def test_a_private_key_is_refused_without_being_stored_or_echoed(admin: User, application: Any) -> None:
    pem = _private_pem()
    with pytest.raises(InvalidInput) as caught:
        keys.register_signing_key(actor=admin, application=application, public_key_pem=pem)
    assert pem.splitlines()[1] not in str(caught.value.as_dict())
    assert not AuditRecord.objects.filter(action__startswith="sharing.client_key").exists()


def test_the_same_key_twice_is_refused(admin: User, application: Any, department_a: Organisation) -> None:
    pem = public_pem()
    keys.register_signing_key(actor=admin, application=application, public_key_pem=pem)
    other = machine_client(admin, department_a, name="另一个系统")
    for target in (application, other):
        with pytest.raises(InvalidInput):
            keys.register_signing_key(actor=admin, application=target, public_key_pem=pem)
    assert SigningKey.objects.count() == 1


def test_a_client_without_the_exchange_scope_or_a_department_gets_no_key(
    admin: User, department_a: Organisation
) -> None:
    verify_only = machine_client(admin, department_a, name="核验系统", scopes=["registers:verify"])
    nowhere = machine_client(admin, None, name="无部门系统")
    web, _secret = clients.register_client(
        actor=admin,
        name="网站",
        kind="web",
        redirect_uris=["https://example.gov.cn/cb"],
        allowed_scopes=["openid"],
        department=department_a,
    )
    for application in (verify_only, nowhere, web):
        with pytest.raises(InvalidInput) as caught:
            keys.register_signing_key(actor=admin, application=application, public_key_pem=public_pem())
        assert caught.value.details[0]["field"] == "application"
    assert not SigningKey.objects.exists()


def test_a_disabled_client_gets_no_key(admin: User, application: Any) -> None:
    clients.disable_client(actor=admin, application=application)
    with pytest.raises(InvalidInput):
        keys.register_signing_key(actor=admin, application=application, public_key_pem=public_pem())


def test_a_retired_key_is_no_longer_active_and_cannot_be_retired_twice(
    admin: User, application: Any, manager: User
) -> None:
    key = keys.register_signing_key(actor=admin, application=application, public_key_pem=public_pem())
    with pytest.raises(PermissionDenied):
        keys.retire_signing_key(actor=manager, key=key)
    keys.retire_signing_key(actor=admin, key=key)
    assert keys.active_key(application, key.key_id) is None
    assert AuditRecord.objects.filter(action="sharing.client_key_retired").count() == 1
    with pytest.raises(InvalidTransition):
        keys.retire_signing_key(actor=admin, key=key)


def test_the_active_key_must_belong_to_the_asking_client(
    admin: User, application: Any, department_a: Organisation
) -> None:
    key = keys.register_signing_key(actor=admin, application=application, public_key_pem=public_pem())
    other = machine_client(admin, department_a, name="另一个系统")
    assert keys.active_key(other, key.key_id) is None


def _command() -> tuple[BaseCommand, StringIO]:
    out = StringIO()
    return BaseCommand(stdout=out), out


def test_the_command_adds_lists_and_retires_keys(application: Any, tmp_path: Any, roles: None) -> None:
    pem_file = tmp_path / "system.pub"
    pem = public_pem()
    pem_file.write_text(pem)
    command, out = _command()
    cli_keys.run(command, {"key_action": "add", "client_id": application.client_id, "public_key_file": str(pem_file)})
    key_id = signing.key_id_of(signing.load_public_pem(pem))  # type: ignore[arg-type]
    assert f"key_id: {key_id}" in out.getvalue()
    cli_keys.run(command, {"key_action": "list", "client_id": application.client_id})
    assert f"{key_id}\t{application.client_id}\tactive" in out.getvalue()
    cli_keys.run(command, {"key_action": "retire", "key_id": key_id})
    assert SigningKey.objects.get(key_id=key_id).retired_at is not None
    with pytest.raises(CommandError):
        cli_keys.run(command, {"key_action": "retire", "key_id": "nope"})
    with pytest.raises(CommandError):
        cli_keys.run(command, {"key_action": "add", "client_id": "nope", "public_key_file": str(pem_file)})


def test_the_command_parser_accepts_the_documented_arguments() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    cli_keys.add_client_key_command(parser.add_subparsers(dest="subcommand"))
    options = vars(parser.parse_args(["client-key", "add", "abc", "--public-key", "k.pem"]))
    assert options == {"subcommand": "client-key", "key_action": "add", "client_id": "abc", "public_key_file": "k.pem"}
