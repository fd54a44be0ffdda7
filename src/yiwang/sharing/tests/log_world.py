"""Helpers of the access-log tests: resources of department A and B, and records appended as the exchange would."""

from __future__ import annotations

from typing import Any

from yiwang.catalogue.models import Organisation
from yiwang.common.masking import mask_id_number
from yiwang.sharing import accesslog
from yiwang.sharing.constants import AccessChannel, Backend, Outcome, SharingType, SubjectKind, UpdateCycle
from yiwang.sharing.log_selectors import subject_index
from yiwang.sharing.models import AccessRecord, Resource, ResourceField


def resource(provider: Organisation | None, code: str = "log_test", **extra: Any) -> Resource:
    """A resource with two fields (display names 权利人 / Owner and 坐落 / Location)."""
    row = Resource.objects.create(
        code=code,
        name=f"测试资源 {code}",
        name_en=f"Test resource {code}",
        provider=provider,
        subject_kind=extra.pop("subject_kind", SubjectKind.PERSON),
        sharing_type=SharingType.CONDITIONAL,
        update_cycle=UpdateCycle.DAILY,
        backend=Backend.EXTERNAL,
        **extra,
    )
    ResourceField.objects.create(resource=row, code="owner", name="权利人", name_en="Owner", sensitivity="sensitive")
    ResourceField.objects.create(
        resource=row, code="location", name="坐落", name_en="Location", sensitivity="internal", position=1
    )
    return row


def read(
    consumer: Organisation | None,
    res: Resource | None,
    *,
    id_number: str = "",
    uscc: str = "",
    outcome: str = Outcome.ANSWERED,
    refusal: str = "",
    case_number: str = "CASE-1",
    purpose: str = "办理不动产登记",
    official: str = "审查员甲",
    fields: list[str] | None = None,
    **extra: Any,
) -> AccessRecord:
    """Append a record of ``consumer`` reading a person's (``id_number``) or enterprise's (``uscc``) data."""
    kind: str
    if uscc:
        kind, index, masked = SubjectKind.ENTITY, subject_index(SubjectKind.ENTITY, uscc), uscc[:4] + "****"
    elif id_number:
        kind, index, masked = (
            SubjectKind.PERSON,
            subject_index(SubjectKind.PERSON, id_number),
            mask_id_number(id_number),
        )
    else:
        kind, index, masked = "", "", ""
    return accesslog.append(
        channel=extra.pop("channel", AccessChannel.EXCHANGE),
        outcome=outcome,
        refusal=refusal,
        consumer=consumer,
        consumer_label=consumer.name if consumer else "",
        official=official,
        subject_kind=kind,
        subject_index=index,
        subject_masked=masked,
        resource=res,
        resource_code=res.code if res else "",
        fields=["owner", "location"] if fields is None else fields,
        purpose=purpose,
        case_number=case_number,
        **extra,
    )
