"""``yiwang licences verify PATH_OR_IDENTIFIER [--json]``: the public record (holder masked), exit 0 only for a
valid licence; ``yiwang licences export IDENTIFIER --out FILE|-``: the sealed file byte for byte, a clear refusal
for an identifier that is malformed or not issued here; the ``pki`` subcommands still answer."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from yiwang.identity.tests.people import ENTERPRISE
from yiwang.licences import issuance, lifecycle, selectors, verification
from yiwang.licences.models import Licence
from yiwang.licences.tests.test_identifiers import REAL
from yiwang.licences.tests.tools import flip_a_stream_byte

pytestmark = pytest.mark.django_db


def _verify(*args: str) -> tuple[int, str]:
    """The command's exit status and what it printed."""
    out = StringIO()
    try:
        call_command("licences", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_valid_identifier_prints_the_public_record_and_exits_0(enterprise_licence: Licence) -> None:
    status, out = _verify(enterprise_licence.identifier, "--json")
    record = json.loads(out)
    assert status == 0 and record["status"] == "valid" and record["identifier"] == enterprise_licence.identifier
    assert record == verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))
    assert ENTERPRISE.uscc not in out and ENTERPRISE.name not in out  # masked, as on the page


def test_a_file_is_checked_by_its_seal(enterprise_licence: Licence, tmp_path: Path) -> None:
    good = tmp_path / "licence.pdf"
    good.write_bytes(issuance.sealed_bytes(enterprise_licence))
    status, out = _verify(str(good), "--json")
    assert (status, json.loads(out)["status"]) == (0, "valid")
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(flip_a_stream_byte(good.read_bytes()))
    status, out = _verify(str(changed), "--json")
    assert (status, json.loads(out)["status"]) == (1, "tampered")
    text = tmp_path / "notes.txt"
    text.write_text("not a licence")
    status, out = _verify(str(text), "--json")
    assert (status, json.loads(out)["status"]) == (1, "invalid")


@pytest.mark.parametrize(("text", "verdict"), [(REAL[0], "unknown"), (REAL[0][:-1] + "G", "invalid"), ("x", "invalid")])
def test_anything_but_a_valid_licence_exits_1(text: str, verdict: str, db: Any) -> None:
    status, out = _verify(text, "--json")
    record = json.loads(out)
    assert status == 1 and record["status"] == verdict and record["reason"]


def test_a_suspended_licence_exits_1(enterprise_licence: Licence, reviewer_a: User) -> None:
    lifecycle.suspend(actor=reviewer_a, licence=enterprise_licence, reason="暂扣待查")
    status, out = _verify(enterprise_licence.identifier, "--json")
    assert (status, json.loads(out)["status"]) == (1, "suspended")


def test_without_json_one_human_line(enterprise_licence: Licence) -> None:
    status, out = _verify(enterprise_licence.identifier)
    lines = out.strip().splitlines()
    assert status == 0 and len(lines) == 1
    assert lines[0].startswith("valid: ") and enterprise_licence.identifier in lines[0]
    assert ENTERPRISE.uscc not in out
    status, out = _verify(REAL[0][:-1] + "G")
    assert status == 1 and out.startswith("invalid: ")


def test_export_writes_the_sealed_file_exactly(enterprise_licence: Licence, tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    out = StringIO()
    call_command("licences", "export", enterprise_licence.identifier, "--out", str(target), stdout=out)
    data = target.read_bytes()
    assert data == issuance.sealed_bytes(enterprise_licence)
    assert hashlib.sha256(data).hexdigest() == enterprise_licence.sha256
    assert str(target) in out.getvalue()


def test_export_to_standard_output(enterprise_licence: Licence, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    # An identifier typed loosely (lower case, spaces) names the same licence, as verification reads it.
    call_command("licences", "export", f" {enterprise_licence.identifier.lower()} ", "--out", "-")
    assert capsysbinary.readouterr().out == issuance.sealed_bytes(enterprise_licence)


@pytest.mark.parametrize(
    ("text", "message"), [(REAL[0], "No licence"), (REAL[0][:-1] + "G", "Not a licence identifier"), ("", "Not a")]
)
def test_export_refuses_unknown_or_malformed_identifiers_and_writes_nothing(
    text: str, message: str, tmp_path: Path, db: Any
) -> None:
    target = tmp_path / "out.pdf"
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("licences", "export", text, "--out", str(target))
    assert not target.exists()


def test_the_pki_subcommands_still_answer(platform_pki: Any) -> None:
    out = StringIO()
    call_command("licences", "pki", "list", stdout=out)
    assert platform_pki.serial in out.getvalue()
