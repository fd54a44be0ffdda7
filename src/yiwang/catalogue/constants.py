"""Code sets of the catalogue (GB/T 39046-2020 Appendix A; STANDARDS.md §1 and §5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemType(models.TextChoices):
    ADMINISTRATIVE_POWER = "00", _("Administrative power")
    LICENSING = "01", _("Administrative licensing")
    PENALTY = "02", _("Administrative penalty")
    COERCION = "03", _("Administrative coercion")
    LEVY = "04", _("Administrative levy")
    BENEFIT = "05", _("Administrative benefit")
    INSPECTION = "06", _("Administrative inspection")
    CONFIRMATION = "07", _("Administrative confirmation")
    REWARD = "08", _("Administrative reward")
    ADJUDICATION = "09", _("Administrative adjudication")
    OTHER_POWER = "10", _("Other administrative power")
    PUBLIC_SERVICE = "20", _("Public service")


class ExerciseLevel(models.TextChoices):
    NATIONAL = "1", _("National")
    PROVINCIAL = "2", _("Provincial")
    MUNICIPAL = "3", _("Municipal")
    COUNTY = "4", _("County")
    TOWNSHIP = "5", _("Township or street")
    VILLAGE = "6", _("Village or community")
    TIERED = "7", _("Tiered management")


class BodyNature(models.TextChoices):
    STATUTORY = "1", _("Statutory authority")
    AUTHORISED = "2", _("Authorised organisation")
    ENTRUSTED = "3", _("Entrusted organisation")
    OTHER = "9", _("Other")


class ServiceObject(models.TextChoices):
    NATURAL_PERSON = "1", _("Natural person")
    ENTERPRISE = "2", _("Enterprise legal person")
    INSTITUTION = "3", _("Public institution")
    SOCIAL_ORGANISATION = "4", _("Social organisation")
    GOVERNMENT = "5", _("Administrative body")
    OTHER = "6", _("Other organisation")


class HandlingForm(models.TextChoices):
    WINDOW = "1", _("At the service window")
    ONLINE_PC = "2", _("Online (computer)")
    ONLINE_MOBILE = "3", _("Online (mobile)")
    POST = "4", _("By post")
    OTHER = "9", _("Other")


class CaseType(models.TextChoices):
    IMMEDIATE = "1", _("Decided on the spot")
    PROMISED = "2", _("Decided within a promised time limit")
    OTHER = "9", _("Other")


class SpecialProcedureKind(models.TextChoices):
    EXTENSION = "1", _("Extension of the approval period")
    OTHER = "2", _("Other special procedure")


class TimeUnit(models.TextChoices):
    IMMEDIATE = "immediate", _("on the spot")
    WORKING_DAY = "working_day", _("working days")
    NATURAL_DAY = "natural_day", _("calendar days")
    MONTH = "month", _("months")
    YEAR = "year", _("years")


class OnlineDepth(models.TextChoices):
    I = "I", _("Level I: information published")  # noqa: E741 - the standard's own roman numeral
    II = "II", _("Level II: online pre-review")
    III = "III", _("Level III: online handling")
    IV = "IV", _("Level IV: fully online, no visit")


class OnlineCapability(models.TextChoices):
    CONSULTATION = "1", _("Online consultation")
    RECEIPT = "2", _("Online receipt of materials")
    PRE_REVIEW = "3", _("Online pre-review")
    ACCEPTANCE = "4", _("Online acceptance")
    HANDLING = "5", _("Online handling")
    RESULT_FEEDBACK = "6", _("Online result notification")
    LICENCE_FEEDBACK = "7", _("Electronic licence delivered online")
    OTHER = "8", _("Other")


class CrossRegionScope(models.TextChoices):
    NONE = "none", _("Not available across regions")
    COUNTY = "county", _("Across the county")
    CITY = "city", _("Across the city")
    PROVINCE = "province", _("Across the province")
    NATIONAL = "national", _("Across the country")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("Provided by the applicant")
    GOVERNMENT = "government", _("Issued by a government body")
    INTERMEDIARY = "intermediary", _("Issued by an intermediary")
    OTHER = "other", _("Other")


class MaterialMedium(models.TextChoices):
    PAPER = "paper", _("Paper")
    ELECTRONIC = "electronic", _("Electronic")
    EITHER = "either", _("Paper or electronic")


class ResultKind(models.TextChoices):
    LICENCE = "licence", _("Licence or certificate")
    APPROVAL_DOCUMENT = "approval_document", _("Approval document")
    OTHER = "other", _("Other")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The allowed transitions, in one table (STYLE.md §3). Publishing and withdrawing are the only ways a
# version becomes visible or stops being visible; superseded is reached when a successor takes effect.
TRANSITIONS: dict[str, frozenset[str]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.IN_REVIEW}),
    VersionStatus.IN_REVIEW: frozenset({VersionStatus.DRAFT, VersionStatus.PUBLISHED}),
    VersionStatus.PUBLISHED: frozenset({VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN}),
    VersionStatus.SUPERSEDED: frozenset(),
    VersionStatus.WITHDRAWN: frozenset(),
}

# Personal and enterprise themes (服务主题) used for browsing; items may also carry free-text themes.
NATURAL_PERSON_THEMES = [
    ("生育收养", _("Birth and adoption")),
    ("户籍办理", _("Household registration")),
    ("民族宗教", _("Ethnicity and religion")),
    ("教育科研", _("Education and research")),
    ("入伍服役", _("Military service")),
    ("就业创业", _("Employment and starting a business")),
    ("设立变更", _("Setting up and changes")),
    ("准营准办", _("Operating permits")),
    ("抵押质押", _("Mortgages and pledges")),
    ("职业资格", _("Professional qualifications")),
    ("行政缴费", _("Government fees")),
    ("婚姻登记", _("Marriage registration")),
    ("优待抚恤", _("Veterans and survivors")),
    ("规划建设", _("Planning and construction")),
    ("住房保障", _("Housing")),
    ("社会保障", _("Social security")),
    ("医疗卫生", _("Health care")),
    ("交通出行", _("Transport")),
    ("证件办理", _("Identity documents")),
    ("公共安全", _("Public safety")),
    ("死亡殡葬", _("Death and funerals")),
    ("其他", _("Other")),
]
LEGAL_PERSON_THEMES = [
    ("设立变更", _("Setting up and changes")),
    ("准营准办", _("Operating permits")),
    ("资质认证", _("Qualifications and certification")),
    ("年检年审", _("Annual inspection")),
    ("税收财务", _("Tax and finance")),
    ("人力资源", _("Human resources")),
    ("社会保障", _("Social security")),
    ("投资审批", _("Investment approval")),
    ("融资信贷", _("Financing and credit")),
    ("抵押质押", _("Mortgages and pledges")),
    ("商务贸易", _("Commerce and trade")),
    ("招标拍卖", _("Tendering and auctions")),
    ("海关口岸", _("Customs and ports")),
    ("涉外服务", _("Foreign-related services")),
    ("农林牧渔", _("Agriculture, forestry and fisheries")),
    ("国土和规划建设", _("Land, planning and construction")),
    ("交通运输", _("Transport")),
    ("环保绿化", _("Environment")),
    ("应对气候变化", _("Climate change")),
    ("水务气象", _("Water and meteorology")),
    ("医疗卫生", _("Health care")),
    ("科技创新", _("Science and innovation")),
    ("文体教育", _("Culture, sport and education")),
    ("知识产权", _("Intellectual property")),
    ("市场监管", _("Market supervision")),
    ("公安消防", _("Public security and fire safety")),
    ("司法公证", _("Justice and notarisation")),
    ("检验检疫", _("Inspection and quarantine")),
    ("安全生产", _("Work safety")),
    ("破产注销", _("Bankruptcy and deregistration")),
    ("其他", _("Other")),
]
