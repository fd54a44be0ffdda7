"""Cases (办件): an application and everything that happens to it until its result is delivered.

A case is created as a draft and becomes a case with a number (办件编号) when submitted. Its status moves only
through ``cases.machine`` (one table of allowed transitions, each a conditional update plus an appended
``CaseTransition``). The work of departments on it is ``CaseTask`` rows: the window's pre-review/acceptance,
then the item's steps (审查 → 审核 → 决定), one task per department for parallel (joint) steps. Queues are
tasks; deadlines are indexed date columns on cases and tasks, recomputed on every clock event
(``cases.deadlines``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.constants import (
    CaseStatus,
    Channel,
    DeliveryMethod,
    NoticeKind,
    Outcome,
    ProcedureKind,
    Provenance,
    StepCode,
    SupervisionStatus,
    TaskStatus,
    TrustLevel,
    WarningLevel,
)
from yiwang.catalogue.models import ImplementationItem, ItemVersion, Organisation
from yiwang.common.crypto import EncryptedJSONField, EncryptedTextField


class Bundle(models.Model):
    """A one-thing bundle (一件事): related items applied for with one form and one set of materials."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    items = models.ManyToManyField(
        ImplementationItem, through="BundleItem", related_name="bundles", verbose_name=_("items")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("one-thing bundle")
        verbose_name_plural = _("one-thing bundles")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ImplementationItem, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bundle_id", "position"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="bundle_item_uniq")]

    def __str__(self) -> str:
        return f"{self.bundle_id}/{self.item_id}"


class BundleApplication(models.Model):
    """One applicant's application for a bundle: the cases it fanned out to share it."""

    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="applications")
    number = models.CharField(_("bundle number"), max_length=30, unique=True, null=True, blank=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applicant_index = models.CharField(max_length=64, db_index=True)
    enterprise = models.ForeignKey(
        "identity.Enterprise", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = EncryptedJSONField(_("form data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bundle application")
        verbose_name_plural = _("bundle applications")

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    # Bumped by every transition: a conditional update on (status, revision) is how a double-click or two
    # clerks at once are refused instead of advancing the case twice.
    revision = models.PositiveIntegerField(default=0)

    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="cases", verbose_name=_("item"))
    item_name = models.CharField(_("item"), max_length=200)
    basic_code = models.CharField(_("basic code"), max_length=12, blank=True)
    department = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="cases", verbose_name=_("accepting department")
    )
    region_code = models.CharField(_("region code"), max_length=9, db_index=True)

    # The applicant (申请人): a person, or an enterprise through its representative or an agent. Cases belong
    # to the applicant's ID number (blind index), so a walk-in case is theirs when they sign up later.
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("applicant account"),
    )
    applicant_name = models.CharField(_("applicant"), max_length=200)
    applicant_id_number = EncryptedTextField(_("applicant ID number"), blank=True)
    # What lists show of it (first 4 and last 4 characters, common.masking): kept in clear so a queue of 50 rows
    # need not decrypt 50 ID numbers to hide most of each again.
    applicant_id_masked = models.CharField(_("applicant ID number (masked)"), max_length=32, blank=True, editable=False)
    applicant_index = models.CharField(max_length=64, blank=True, editable=False)
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("enterprise"),
    )
    # Who typed it in: the applicant, an agent (经办人/代办人) or a window clerk.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agency = models.ForeignKey("identity.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    bundle_application = models.ForeignKey(
        BundleApplication, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )

    # The answers hold identifiers (ID and phone numbers, addresses): encrypted at rest like the columns above.
    data = EncryptedJSONField(_("form data"), default=dict, blank=True)
    round = models.PositiveSmallIntegerField(_("submission round"), default=0)
    auto_findings = models.JSONField(_("automatic pre-review findings"), default=list, blank=True)
    delivery_method = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryMethod.choices, default=DeliveryMethod.ELECTRONIC
    )
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    deemed_accepted = models.BooleanField(_("accepted by operation of law"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    # Deadlines (dates, inclusive), recomputed on each clock event by cases.deadlines.
    acceptance_due = models.DateField(_("acceptance due"), null=True, blank=True)
    promised_due = models.DateField(_("promised due"), null=True, blank=True)
    statutory_due = models.DateField(_("statutory due"), null=True, blank=True)
    paused_since = models.DateField(_("clock stopped since"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), default=0)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="case_idempotency_uniq",
            ),
        ]
        indexes = [
            # The applicant's "my cases", newest first; enterprise cases likewise.
            models.Index(fields=["applicant_index", "-created_at"], name="case_applicant_idx"),
            models.Index(fields=["enterprise", "-created_at"], name="case_enterprise_idx"),
            # Supervision scans of open cases by deadline.
            models.Index(fields=["status", "promised_due"], name="case_status_due_idx"),
            # The few cases whose clock stands still: the queue subtracts their tasks from the colour counts.
            models.Index(fields=["paused_since"], condition=Q(paused_since__isnull=False), name="case_paused_idx"),
            models.Index(fields=["status", "acceptance_due"], name="case_acceptance_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft #%(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status in (CaseStatus.SUBMITTED, CaseStatus.CORRECTION, CaseStatus.ACCEPTED)


class CaseTransition(models.Model):
    """One move of a case (status or step), appended and never changed: who, when, from, to, why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices)
    step = models.CharField(max_length=12, blank=True)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_label = models.CharField(max_length=150)
    on_behalf_of = models.CharField(max_length=150, blank=True)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("case transitions are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("case transitions are immutable")


class CaseTask(models.Model):
    """One department's work on one step of a case; the staff queues are these rows."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    step_index = models.PositiveSmallIntegerField()  # 0 = acceptance, then the item's steps in order
    step_code = models.CharField(_("step"), max_length=12, choices=StepCode.choices)
    step_name = models.CharField(_("step name"), max_length=60)
    step_name_en = models.CharField(max_length=60, blank=True)
    role = models.CharField(_("role"), max_length=20)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="case_tasks")
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="case_tasks"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_on = models.DateField(_("started on"))
    days = models.PositiveSmallIntegerField(_("step days"), default=0)
    due = models.DateField(_("due"), null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opinion = models.TextField(_("opinion"), blank=True)
    returned = models.BooleanField(default=False)
    parallel = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case task")
        verbose_name_plural = _("case tasks")
        indexes = [
            # The staff queue: a department's open tasks by deadline. Partial (open tasks only): a tenth of the
            # size of a full index at 1M cases; with the role in the key (last, so the order by due still reads
            # the index) the colour counts are index-only scans on both databases (docs/performance.md).
            models.Index(
                fields=["department", "due", "id", "role"], condition=Q(status="open"), name="task_open_queue_idx"
            ),
            models.Index(fields=["status", "due"], name="task_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.step_code}/{self.department_id}"

    def display_step(self, language: str | None) -> str:
        return self.step_name_en if language == "en" and self.step_name_en else self.step_name


def material_upload_to(instance: MaterialFile, filename: str) -> str:
    return f"cases/materials/{instance.sha256[:2]}/{instance.sha256[:16]}/{filename}"


class MaterialFile(models.Model):
    """A file held for an applicant; case materials point at it, so a reused material is never stored twice."""

    owner_index = models.CharField(max_length=64, db_index=True)  # the applicant's (or enterprise's) blind index
    file = models.FileField(upload_to=material_upload_to, max_length=500)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("material file")
        verbose_name_plural = _("material files")

    def __str__(self) -> str:
        return self.original_name


class CaseMaterial(models.Model):
    """What fills one slot of the item's material list in one case, with its trust level and provenance."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    slot = models.PositiveSmallIntegerField()  # index into the item version's content["materials"]
    name = models.CharField(_("material"), max_length=300)
    file = models.ForeignKey(MaterialFile, on_delete=models.PROTECT, null=True, blank=True, related_name="uses")
    provenance = models.CharField(_("provenance"), max_length=10, choices=Provenance.choices)
    trust_level = models.CharField(_("trust level"), max_length=1, choices=TrustLevel.choices)
    # Where it came from beyond the file: the earlier case material reused, the e-licence or shared resource.
    reused_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source_reference = models.CharField(_("source reference"), max_length=200, blank=True)
    pledge_text = models.TextField(_("pledge"), blank=True)
    # A reuse copy of an e-licence (加注件, STANDARDS.md §8) carries its annotation and the annotation's own
    # expiry: after that date the copy may not be used, whatever the licence's own validity.
    annotation = models.TextField(_("annotation"), blank=True)
    annotation_expires_on = models.DateField(_("annotation valid until"), null=True, blank=True)
    # Once-only (sharing.once_only): a material fetched from a shared resource holds the fields read — personal
    # data, so encrypted at rest like the form's answers — and the access-log record of the read, which names
    # the resource, the grant, the time and the case. Empty and null until the read: a draft's slot the
    # applicant consented to fetch is filled when the case is submitted, in the submission's transaction.
    shared_data = EncryptedJSONField(_("fetched data"), default=dict, blank=True)
    access_record = models.ForeignKey(
        "sharing.AccessRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("access record"),
    )
    pledged_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(default=0)  # the submission round it arrived in
    superseded = models.BooleanField(default=False)  # replaced by a correction (kept: staff see what changed)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case material")
        verbose_name_plural = _("case materials")
        ordering = ["case_id", "slot", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "slot"], condition=Q(superseded=False), name="case_material_slot_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Notice(models.Model):
    """A document issued to the applicant (or a department); its content is frozen when issued."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notices", null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=NoticeKind.choices)
    number = models.CharField(_("notice number"), max_length=40, unique=True)
    content = models.JSONField(_("content"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return self.number


class SpecialProcedure(models.Model):
    """A special procedure (特别程序): on-site inspection, hearing, testing, expert review, or an extension."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="special_procedures")
    kind = models.CharField(_("kind"), max_length=1, choices=ProcedureKind.choices)
    name = models.CharField(_("procedure"), max_length=100)
    counts_in_time_limit = models.BooleanField(_("counts in the time limit"))
    days = models.PositiveSmallIntegerField(_("approved days"), default=0)  # extensions only
    reason = models.TextField(_("reason"))
    started_on = models.DateField(_("started on"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("special procedure")
        verbose_name_plural = _("special procedures")
        ordering = ["started_on", "id"]
        constraints = [
            # One clock-stopping procedure at a time: overlapping pauses would be counted twice.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(ended_on__isnull=True, counts_in_time_limit=False),
                name="one_open_pause_per_case",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SupervisionRecord(models.Model):
    """督办: a deadline warning raised by the supervision job, followed up by a supervisor."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervision")
    task = models.ForeignKey(CaseTask, on_delete=models.PROTECT, null=True, blank=True, related_name="supervision")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=9, db_index=True)
    level = models.CharField(_("level"), max_length=6, choices=WarningLevel.choices)
    due = models.DateField(_("due"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=12, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN
    )
    follow_up = models.TextField(_("follow-up"), blank=True)
    followed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    followed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # The job runs again and again: one record per task (or case), level and deadline.
            models.UniqueConstraint(
                fields=["task", "level", "due"], condition=Q(task__isnull=False), name="supervision_task_uniq"
            ),
            models.UniqueConstraint(
                fields=["case", "level", "due"], condition=Q(task__isnull=True), name="supervision_case_uniq"
            ),
        ]
        indexes = [models.Index(fields=["region_code", "status", "level"], name="supervision_region_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level} {self.due}"
