"""Blank forms and samples attached to items: checked by content, audited, downloadable only while the
item is in force, linked from the guide, uploaded in the admin, and generated for the demo catalogue."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue import selectors, services
from yiwang.catalogue.models import Attachment, ItemVersion
from yiwang.catalogue.tests.factories import item_content
from yiwang.common.errors import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Services speak the active language (zh-Hans by default); these tests match English messages.
    with translation.override("en"):
        yield


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def upload(data: bytes, name: str = "upload.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def links(page: str) -> dict[str, str]:
    """Link text → href of the guide's download links."""
    return {text: href for href, text in re.findall(r'<a class="download" href="([^"]+)">([^<]+)</a>', page)}


def test_an_attached_pdf_is_linked_from_the_guide_and_downloaded_by_anyone(
    client: Client, published: Any, manager: User, media_root: Path
) -> None:
    version = published()
    attachment = services.attach_document(
        actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(PDF, "whatever.bin")
    )
    assert (attachment.content_type, attachment.size, attachment.uploaded_by) == (
        "application/pdf",
        len(PDF),
        "manager",
    )
    assert len(attachment.sha256) == 64
    assert selectors.attachments_for(version.item) == {"forms/application.pdf": attachment}
    record = AuditRecord.objects.get(action="catalogue.attachment.save")
    assert record.actor == manager and record.before is None
    after = record.after or {}
    assert after["sha256"] == attachment.sha256 and after["size"] == len(PDF)
    assert "%PDF" not in str(after)  # metadata, never the bytes

    code = version.implementation_code
    page = unescape(client.get(f"/items/{code}/").content.decode())
    found = links(page)
    assert found == {"forms/application.pdf": f"/items/{code}/files/forms/application.pdf"}
    assert "samples/application.pdf" in page  # still shown, as plain text: nothing attached for it
    response = client.get(found["forms/application.pdf"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="application.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    english = unescape(client.get(f"/en/items/{code}/").content.decode())
    assert links(english) == {"forms/application.pdf": f"/en/items/{code}/files/forms/application.pdf"}
    assert client.get(f"/en/items/{code}/files/forms/application.pdf").status_code == 200


def test_attaching_again_replaces_the_file_and_deletes_the_old_one_after_commit(
    published: Any, publisher: User, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    version = published()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.attach_document(
            actor=publisher, item=version.item, reference="samples/licence.pdf", upload=upload(PDF)
        )
    old_path = Path(first.file.path)
    assert old_path.read_bytes() == PDF
    replacement = PDF + b"% a second edition\n"
    with django_capture_on_commit_callbacks(execute=True):
        second = services.attach_document(
            actor=publisher, item=version.item, reference="samples/licence.pdf", upload=upload(replacement)
        )
    assert second.pk == first.pk and Attachment.objects.count() == 1
    assert Path(second.file.path).read_bytes() == replacement
    assert not old_path.exists()
    assert stored_files(media_root) == [Path(second.file.path)]
    record = AuditRecord.objects.filter(action="catalogue.attachment.save").latest("id")
    assert (record.before or {})["sha256"] == first.sha256 and (record.after or {})["sha256"] == second.sha256


def test_a_guide_cached_before_the_attachment_shows_the_link_afterwards(
    client: Client, published: Any, manager: User, django_capture_on_commit_callbacks: Any
) -> None:
    version = published()
    url = f"/items/{version.implementation_code}/"
    assert links(client.get(url).content.decode()) == {}  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_document(actor=manager, item=version.item, reference="samples/licence.pdf", upload=upload(PDF))
    assert list(links(client.get(url).content.decode())) == ["samples/licence.pdf"]


@pytest.mark.parametrize(
    ("reference", "data", "actor_name", "error"),
    [
        ("forms/application.pdf", PNG, "manager", "PNG document, but the reference"),  # a PNG uploaded as .pdf
        ("forms/application.pdf", b"Just some text, renamed.\n" * 4, "manager", "not a PDF, OFD, Word"),
        ("forms/other.pdf", PDF, "manager", "does not reference forms/other.pdf"),
        ("https://example.org/forms/application.pdf", PDF, "manager", "relative path"),
        ("../forms/application.pdf", PDF, "manager", "relative path"),
        ("forms/" + "a" * 300 + ".pdf", PDF, "manager", "at most 300 characters"),
        ("forms/application.pdf", b"", "manager", "empty"),
        ("forms/application.pdf", PDF, "citizen", None),
    ],
)
def test_bad_inputs_are_refused_and_nothing_is_written(
    request: pytest.FixtureRequest,
    published: Any,
    media_root: Path,
    reference: str,
    data: bytes,
    actor_name: str,
    error: str | None,
) -> None:
    version = published()
    actor = request.getfixturevalue(actor_name)
    with pytest.raises(PermissionDenied if error is None else InvalidInput) as raised:
        services.attach_document(actor=actor, item=version.item, reference=reference, upload=upload(data))
    if error:
        assert error in str(raised.value.message)
    assert Attachment.objects.count() == 0
    assert not AuditRecord.objects.filter(action="catalogue.attachment.save").exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_size_limit_is_refused(published: Any, manager: User, media_root: Path, settings: Any) -> None:
    version = published()
    settings.YIWANG_ATTACHMENT_MAX_BYTES = 2048
    big = PDF + b"%" * 2048
    with pytest.raises(InvalidInput, match="at most 2048 bytes"):
        services.attach_document(
            actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(big)
        )
    assert Attachment.objects.count() == 0 and stored_files(media_root) == []
    services.attach_document(actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(PDF))


def test_a_failure_after_the_file_was_stored_removes_it(
    published: Any, manager: User, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = published()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("yiwang.audit.services.record", broken)
    with pytest.raises(RuntimeError):
        services.attach_document(
            actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(PDF)
        )
    assert Attachment.objects.count() == 0 and stored_files(media_root) == []


@pytest.mark.parametrize(
    ("reference", "data", "content_type"),
    [
        (
            "forms/a.docx",
            zipped("[Content_Types].xml", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "forms/a.xlsx",
            zipped("[Content_Types].xml", "xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("forms/a.ofd", zipped("OFD.xml", "Doc_0/Document.xml"), "application/ofd"),
        ("forms/a.doc", OLE2 + b"\x00" * 64 + "WordDocument".encode("utf-16-le"), "application/msword"),
        ("forms/a.xls", OLE2 + b"\x00" * 64 + "Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
        ("samples/a.jpg", JPEG, "image/jpeg"),
        ("samples/a.png", PNG, "image/png"),
    ],
)
def test_each_allowed_type_is_recognised_by_its_content(
    published: Any, manager: User, reference: str, data: bytes, content_type: str
) -> None:
    material = {"name": "申请表", "required": True, "originals": 1, "copies": 0, "blank_form": reference}
    version = published(materials=[material])
    attachment = services.attach_document(
        actor=manager, item=version.item, reference=reference, upload=upload(data, "x.pdf", "application/pdf")
    )
    assert attachment.content_type == content_type


@pytest.mark.parametrize(
    "data",
    [
        zipped("readme.txt"),  # a ZIP that is no office or OFD document
        zipped("[Content_Types].xml", "ppt/presentation.xml"),  # PowerPoint is not allowed
        OLE2 + b"\x00" * 64,  # a compound file that is neither Word nor Excel
        b"PK\x03\x04 broken zip",
    ],
)
def test_containers_of_other_kinds_are_refused(published: Any, manager: User, data: bytes) -> None:
    material = {"name": "申请表", "required": True, "originals": 1, "copies": 0, "blank_form": "forms/a.docx"}
    version = published(materials=[material])
    with pytest.raises(InvalidInput):
        services.attach_document(actor=manager, item=version.item, reference="forms/a.docx", upload=upload(data))


def test_downloads_are_for_items_in_force_only(
    client: Client, published: Any, publisher: User, manager: User, media_root: Path
) -> None:
    # A draft item: attaching is allowed (its latest version references the file), downloading is not.
    draft = services.save_draft(actor=manager, content=item_content())
    services.attach_document(actor=manager, item=draft.item, reference="forms/application.pdf", upload=upload(PDF))
    assert client.get(f"/items/{draft.implementation_code}/files/forms/application.pdf").status_code == 404

    version = published()
    code = version.implementation_code
    services.attach_document(actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(PDF))
    assert client.get(f"/items/{code}/files/forms/application.pdf").status_code == 200
    assert client.get(f"/items/{code}/files/samples/application.pdf").status_code == 404  # referenced, not attached
    assert client.get(f"/items/{code}/files/forms/unknown.pdf").status_code == 404
    assert client.get("/items/NOSUCHCODE/files/forms/application.pdf").status_code == 404

    # A file that only the next draft references stays private until that draft is published.
    extra = {"name": "补充材料", "required": False, "originals": 1, "copies": 0, "blank_form": "forms/extra.pdf"}
    content = {**version.content, "materials": [*version.content["materials"], extra]}
    services.save_draft(actor=manager, content=content, item=version.item)
    services.attach_document(actor=manager, item=version.item, reference="forms/extra.pdf", upload=upload(PDF))
    assert client.get(f"/items/{code}/files/forms/extra.pdf").status_code == 404

    services.withdraw(actor=publisher, version=version, reason="事项取消")
    assert client.get(f"/items/{code}/files/forms/application.pdf").status_code == 404


def test_only_the_version_in_force_links_the_files(client: Client, published: Any, publisher: User) -> None:
    first = published()
    services.attach_document(actor=publisher, item=first.item, reference="forms/application.pdf", upload=upload(PDF))
    draft = services.save_draft(
        actor=publisher, content={**first.content, "hours": "工作日 9:00–18:00"}, item=first.item
    )
    services.submit_for_review(actor=publisher, version=draft)
    services.publish(actor=publisher, version=ItemVersion.objects.get(pk=draft.pk))
    code = first.implementation_code
    assert list(links(client.get(f"/items/{code}/versions/2/").content.decode())) == ["forms/application.pdf"]
    # Attachments are not versioned: an old version's page shows its references as text.
    assert links(client.get(f"/items/{code}/versions/1/").content.decode()) == {}


def test_a_manager_attaches_a_file_in_the_admin(
    staff_client: Callable[[User], Client], manager: User, published: Any
) -> None:
    version = published()
    client = staff_client(manager)  # staff pass the TOTP second factor before any admin page
    change_url = reverse("admin:catalogue_itemversion_change", args=[version.pk])
    page = client.get(change_url).content.decode()
    assert 'id="attachments"' in page
    assert '<option value="samples/licence.pdf">' in page and '<option value="forms/application.pdf">' in page
    response = client.post(
        reverse("admin:catalogue_itemversion_attach", args=[version.pk]),
        {"reference": "samples/licence.pdf", "file": upload(PDF, "licence.pdf")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.reference == "samples/licence.pdf" and attachment.uploaded_by == "manager"
    download = reverse("admin:catalogue_itemversion_attachment", args=[attachment.pk])
    assert download in client.get(change_url).content.decode()
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]

    # A refused file is reported on the page and changes nothing.
    response = client.post(
        reverse("admin:catalogue_itemversion_attach", args=[version.pk]),
        {"reference": "samples/licence.pdf", "file": upload(PNG, "licence.pdf")},
        follow=True,
    )
    assert "PNG document, but the reference" in response.content.decode()
    assert Attachment.objects.get().sha256 == attachment.sha256


def test_staff_without_catalogue_roles_cannot_attach_or_download_in_the_admin(
    staff_client: Callable[[User], Client], citizen: User, published: Any, manager: User
) -> None:
    version = published()
    attachment = services.attach_document(
        actor=manager, item=version.item, reference="forms/application.pdf", upload=upload(PDF)
    )
    citizen.is_staff = True  # an admin-site user without a catalogue role
    citizen.save()
    client = staff_client(citizen)
    response = client.post(
        reverse("admin:catalogue_itemversion_attach", args=[version.pk]),
        {"reference": "samples/licence.pdf", "file": upload(PDF)},
    )
    assert response.status_code == 403
    assert client.get(reverse("admin:catalogue_itemversion_attachment", args=[attachment.pk])).status_code == 403
    assert Attachment.objects.count() == 1


def test_the_demo_attaches_a_generated_pdf_for_every_reference(client: Client, media_root: Path) -> None:
    call_command("demo", "--no-users")
    expected = {
        (v.item_id, ref.reference)
        for v in ItemVersion.objects.all()
        for ref in selectors.document_references(v.content)
    }
    assert len(expected) >= 90
    assert set(Attachment.objects.values_list("item_id", "reference")) == expected
    attachment = Attachment.objects.filter(reference__startswith="samples/").first()
    assert attachment is not None
    data = Path(attachment.file.path).read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 1024
    assert b"/Font" in data and b"STSong-Light" in data
    assert attachment.content_type == "application/pdf" and attachment.size == len(data)

    # A citizen follows the link on the demo guide.
    code = ItemVersion.objects.get(item_id=attachment.item_id).implementation_code
    href = links(unescape(client.get(f"/items/{code}/").content.decode()))[attachment.reference]
    response = client.get(href)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data  # type: ignore[attr-defined]

    # Idempotent: a second run attaches nothing (no new audit records or files).
    call_command("demo", "--no-users")
    assert Attachment.objects.count() == len(expected)
    assert AuditRecord.objects.filter(action="catalogue.attachment.save").count() == len(expected)
    assert len(stored_files(media_root)) == len(expected)


def test_generated_documents_are_real_and_deterministic() -> None:
    from yiwang.catalogue.documents import render_document

    kwargs = {
        "title": "个体工商户登记（备案）申请书",
        "item_name": "个体工商户登记",
        "body": "杭州市西湖区市场监督管理局",
    }
    blank = render_document(**kwargs, kind="blank_form")
    sample = render_document(**kwargs, kind="sample")
    assert blank.startswith(b"%PDF-") and sample.startswith(b"%PDF-") and blank != sample
    assert render_document(**kwargs, kind="sample") == sample
    assert services.detect_file_type(ContentFile(sample)) == "pdf"
