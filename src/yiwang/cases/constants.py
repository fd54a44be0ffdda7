"""Code sets of the cases domain (办件). Where a national code set exists it is cited (STANDARDS.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseStatus(models.TextChoices):
    """Where a case stands. The allowed moves between these are one table: ``cases.machine.TRANSITIONS``."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting pre-review")  # received; the 5-working-day acceptance window runs
    CORRECTION = "correction", _("Awaiting corrections")  # one correction notice issued; the applicant acts
    ACCEPTED = "accepted", _("In progress")  # accepted (受理): the working-day clock runs through the steps
    DECIDED = "decided", _("Decided")  # approved or denied (办结); the result awaits delivery
    DELIVERED = "delivered", _("Delivered")  # the result reached the applicant (送达)
    REFUSED = "refused", _("Not accepted")  # 不予受理
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.CORRECTION, CaseStatus.ACCEPTED)
FINISHED_STATUSES = (CaseStatus.DECIDED, CaseStatus.DELIVERED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN)


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


class Channel(models.TextChoices):
    """How the application arrived (GB/T 39046 办理形式: 1 窗口, 2 电脑端, 3 移动端)."""

    ONLINE = "online", _("Online")
    WINDOW = "window", _("At a service window")
    API = "api", _("Department system")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", pgettext_lazy("task status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task status", "Cancelled")


class StepCode(models.TextChoices):
    """Steps of handling (审查工作细则). ``accept`` is the window's pre-review and acceptance."""

    # A context of their own: "Audit" alone already means the audit log (审计日志) elsewhere.
    ACCEPT = "accept", pgettext_lazy("case step", "Pre-review and acceptance")
    REVIEW = "review", pgettext_lazy("case step", "Review")
    AUDIT = "audit", pgettext_lazy("case step", "Audit")
    DECIDE = "decide", pgettext_lazy("case step", "Decision")


class Provenance(models.TextChoices):
    """Where a material came from; it fixes the trust level (技术体系建设指南, STANDARDS.md §8)."""

    UPLOAD = "upload", _("Uploaded by the applicant")
    REUSE = "reuse", _("Reused from an earlier case")
    LICENCE = "licence", _("Electronic licence")
    SHARED = "shared", _("Shared data")
    WINDOW = "window", _("Original checked at the window")
    PLEDGE = "pledge", _("Truthfulness pledge")


class TrustLevel(models.TextChoices):
    A = "A", _("A: issued by a government body under its e-seal")
    B = "B", _("B: checked against the original by window staff")
    C = "C", _("C: uploaded by the applicant")
    D = "D", _("D: made by the applicant under a pledge")


# The level each provenance gives (a reused copy keeps the level it had; see services.reuse_material).
TRUST_OF_PROVENANCE = {
    Provenance.UPLOAD: TrustLevel.C,
    Provenance.LICENCE: TrustLevel.A,
    Provenance.SHARED: TrustLevel.A,
    Provenance.WINDOW: TrustLevel.B,
    Provenance.PLEDGE: TrustLevel.D,
}


class NoticeKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt of application")
    CORRECTION = "correction", _("One-time correction notice")
    ACCEPTANCE = "acceptance", _("Notice of acceptance")
    REFUSAL = "refusal", _("Notice of non-acceptance")
    APPROVAL = "approval", _("Decision to approve")
    DENIAL = "denial", _("Decision to deny")
    SUPERVISION = "supervision", _("Supervision notice")


class DeliveryMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic result online")
    PICKUP = "pickup", _("Pick up at the window")
    MAIL = "mail", _("By mail")


class WarningLevel(models.TextChoices):
    """Deadline colours of electronic supervision (电子监察): yellow near the deadline, red overdue."""

    YELLOW = "yellow", _("Warning")
    RED = "red", _("Overdue")


class SupervisionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("supervision status", "Open")
    FOLLOWED_UP = "followed_up", _("Followed up")
    CLOSED = "closed", pgettext_lazy("supervision status", "Closed")


class ProcedureKind(models.TextChoices):
    """特别程序种类 (GB/T 39046 Appendix A): 1 延长审批; 2 other procedures (现场核查, 听证, 检验, 专家评审 …)."""

    EXTENSION = "1", _("Extension of the time limit")
    OTHER = "2", _("Other special procedure")
