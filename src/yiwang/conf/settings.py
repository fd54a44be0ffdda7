"""Django settings for Yiwang, read from environment variables (see docs/configuration.md)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from yiwang.conf.env import env_bool, env_cache, env_choice, env_database, env_int, env_list, env_str
from yiwang.conf.keys import load_or_create_rsa_key

# Lets annotations such as ``QuerySet[Item]`` and ``ModelAdmin[Item]`` work at run time.
django_stubs_ext.monkeypatch()

SRC_DIR = Path(__file__).resolve().parent.parent  # src/yiwang
BASE_DIR = SRC_DIR.parent.parent  # the repository root when run from a checkout
DATA_DIR = Path(env_str("YIWANG_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("YIWANG_DEBUG", False)
_INSECURE_DEV_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("YIWANG_SECRET_KEY", _INSECURE_DEV_KEY)
ALLOWED_HOSTS = env_list("YIWANG_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("YIWANG_CSRF_TRUSTED_ORIGINS", [])
if not DEBUG and SECRET_KEY == _INSECURE_DEV_KEY and env_bool("YIWANG_REQUIRE_SECRET_KEY", False):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("YIWANG_SECRET_KEY must be set when YIWANG_REQUIRE_SECRET_KEY is on")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "yiwang.common",
    "yiwang.audit",
    "yiwang.catalogue",
    "yiwang.registers",
    "yiwang.identity",
    "yiwang.portal",
    "yiwang.workbench",
    "yiwang.cases",
    "yiwang.licences",
    "yiwang.sharing",
    "yiwang.notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "yiwang.common.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "yiwang.identity.middleware.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yiwang.conf.urls"
WSGI_APPLICATION = "yiwang.conf.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.notifications.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", str(DATA_DIR / "yiwang.sqlite3"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A sqlite:// URL gets the same busy timeout and write locking as the embedded default: a Celery worker
    # writing the same file is a second writer.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"} | DATABASES["default"].get(
        "OPTIONS", {}
    )
    # Tests get a file rather than Django's in-memory database: the broker tests start a real Celery worker in
    # another process, which must see the test database. One file per test run (process id), removed after it.
    _test_db = Path(tempfile.gettempdir()) / f"yiwang-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": env_str("YIWANG_TEST_DATABASE_NAME", str(_test_db))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env_cache("YIWANG_CACHE_URL")}
# Public list pages (home, search, browse) are cached this long; publication also invalidates them at once
# where the cache is shared (Redis). Guide pages are cached per immutable published version.
YIWANG_PAGE_CACHE_SECONDS = env_int("YIWANG_PAGE_CACHE_SECONDS", 60, minimum=0, maximum=3600)

# Argon2id first (new and re-saved passwords; OWASP parameters, identity/hashers.py); the others only verify
# hashes made before the switch.
PASSWORD_HASHERS = [
    "yiwang.identity.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # Citizens sign in with their ID number, staff with a user name; both end up as Django users.
    "yiwang.identity.backends.IdentityBackend",
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:account"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# zh-Hans first, English complete beside it.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("YIWANG_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("YIWANG_STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("YIWANG_MEDIA_ROOT", str(DATA_DIR / "media")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Sessions only by default. Bearer tokens are accepted only by views that name OAuth2Authentication
    # together with TokenHasScope (the machine APIs): a token a department system got to sign a user in must
    # not open the user's whole API (docs/sso.md).
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "yiwang.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang API",
    "DESCRIPTION": "一网通办 public catalogue and management API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Celery: in production a broker (Redis or RabbitMQ); in the embedded default tasks run in process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env_bool("YIWANG_TASKS_EAGER", CELERY_BROKER_URL.startswith("memory://"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Publishing a task happens after a write has committed (common/outbox.py): when the broker is down it must fail
# fast, not hold the request. Celery's defaults wait without limit on a broker that accepts connections but does
# not answer (celery/celery#4556), so every wait is bounded; a failed publish leaves the event to the relay.
_BROKER_TIMEOUT = env_int("YIWANG_BROKER_TIMEOUT_SECONDS", 3, minimum=2, maximum=60)
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True  # a worker started before its broker waits for it
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    # Redis's socket timeouts (other transports ignore them); above kombu's one-second BRPOP poll, so a worker's
    # idle wait for tasks never trips them.
    "socket_connect_timeout": _BROKER_TIMEOUT,
    "socket_timeout": _BROKER_TIMEOUT,
}

# E-mail (notifications/): the console backend prints messages in development; SMTP in production.
EMAIL_BACKEND = env_str("YIWANG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("YIWANG_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("YIWANG_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("YIWANG_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("YIWANG_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("YIWANG_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("YIWANG_EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("YIWANG_EMAIL_USE_TLS and YIWANG_EMAIL_USE_SSL exclude each other; set one")
# Delivery runs inside a database transaction: an SMTP server that stops answering must not hold it for long.
EMAIL_TIMEOUT = env_int("YIWANG_EMAIL_TIMEOUT_SECONDS", 10, minimum=1, maximum=300)
EMAIL_FILE_PATH = env_str("YIWANG_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))  # the file-based backend only
DEFAULT_FROM_EMAIL = env_str("YIWANG_DEFAULT_FROM_EMAIL", "Yiwang <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# GB 32100: some registered codes in the wild fail the check character; the policy is configurable.
YIWANG_USCC_POLICY = env_choice("YIWANG_USCC_POLICY", "reject", ["warn", "reject"])
# GB/T 39554.1 segment layout is unverified (STANDARDS.md §2): only the USCC prefix and length are fixed.
YIWANG_IMPLEMENTATION_CODE_PATTERN = env_str("YIWANG_IMPLEMENTATION_CODE_PATTERN", r"^[0-9A-Z]{18}[0-9A-Z]{1,18}$")
YIWANG_PUBLIC_BASE_URL = env_str("YIWANG_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Licences (docs/licences.md): the embedded CJK font (empty: the first Debian TrueType CJK font found), how many
# days ahead holders are reminded of an expiry, and how long a reuse copy's annotation (加注件) stays valid.
YIWANG_LICENCE_FONT = env_str("YIWANG_LICENCE_FONT", "")
YIWANG_LICENCE_REMINDER_DAYS = env_int("YIWANG_LICENCE_REMINDER_DAYS", 30, minimum=1, maximum=365)
YIWANG_LICENCE_ANNOTATION_DAYS = env_int("YIWANG_LICENCE_ANNOTATION_DAYS", 90, minimum=1, maximum=365)
# Public licence verification (page and API together): at most N verifications per S seconds from one address.
YIWANG_VERIFY_RATE = env_str("YIWANG_VERIFY_RATE", "60/600")
if not re.fullmatch(r"[1-9][0-9]{0,6}/[1-9][0-9]{0,6}", YIWANG_VERIFY_RATE):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"YIWANG_VERIFY_RATE={YIWANG_VERIFY_RATE!r} is not COUNT/SECONDS, e.g. 60/600")
YIWANG_SEARCH_MAX_RESULTS = env_int("YIWANG_SEARCH_MAX_RESULTS", 200, minimum=10, maximum=5000)
# Largest blank form or sample a manager may attach to an item (bytes; 10 MiB by default).
YIWANG_ATTACHMENT_MAX_BYTES = env_int("YIWANG_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024, maximum=1024**3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # ID numbers and phone numbers never reach a log in clear, whoever logs them.
    "filters": {"mask_personal_data": {"()": "yiwang.common.masking.MaskPersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_personal_data"]}
    },
    # Eager tasks in the embedded default would log every outbox delivery at INFO.
    "loggers": {
        "celery": {"level": "WARNING"},
        # Django's own request errors ("Not Found: /path…") through the masking filter, not its default handler.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The development server's access lines (request paths with query strings) go through the masking
        # filter too, instead of Django's own unfiltered handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("YIWANG_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"]),
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("YIWANG_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Identity (docs/identity.md) -------------------------------------------------------------------------
# Sessions end after this many seconds of inactivity.
SESSION_COOKIE_AGE = env_int("YIWANG_SESSION_SECONDS", 30 * 60, minimum=60, maximum=7 * 24 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # sliding expiry: activity keeps a session alive
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # nobody, administrators included, reads another person's TOTP secret
# Field encryption keys (Fernet, urlsafe base64 of 32 bytes), newest first; older keys only decrypt.
YIWANG_FIELD_KEYS = env_list("YIWANG_FIELD_KEYS", [])
YIWANG_BLIND_INDEX_KEY = env_str("YIWANG_BLIND_INDEX_KEY", "")
# Login throttling: this many failures within the window lock the account (and the client address) for a while.
YIWANG_LOGIN_MAX_FAILURES = env_int("YIWANG_LOGIN_MAX_FAILURES", 5, minimum=1, maximum=100)
YIWANG_LOGIN_LOCK_SECONDS = env_int("YIWANG_LOGIN_LOCK_SECONDS", 15 * 60, minimum=1, maximum=24 * 3600)
# One-time SMS codes: lifetime and attempts.
YIWANG_SMS_CODE_SECONDS = env_int("YIWANG_SMS_CODE_SECONDS", 5 * 60, minimum=30, maximum=3600)
YIWANG_SMS_CODE_ATTEMPTS = env_int("YIWANG_SMS_CODE_ATTEMPTS", 5, minimum=1, maximum=20)
# Where SMS messages go: the console provider prints them (development); a real gateway plugs in by path.
YIWANG_MESSAGE_PROVIDER = env_str("YIWANG_MESSAGE_PROVIDER", "yiwang.identity.messaging.ConsoleProvider")
# TOTP issuer shown in authenticator apps.
OTP_TOTP_ISSUER = env_str("YIWANG_TOTP_ISSUER", "Yiwang")
# Staff must pass TOTP; tests and the embedded demo may turn it off only explicitly.
YIWANG_STAFF_REQUIRE_TOTP = env_bool("YIWANG_STAFF_REQUIRE_TOTP", True)

# OpenID Connect provider for department systems (django-oauth-toolkit).
_oidc_key_file = Path(env_str("YIWANG_OIDC_KEY_FILE", str(DATA_DIR / "oidc-signing-key.pem")))
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named so our migrations can refer to it
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": "",  # filled below from the key file
    "PKCE_REQUIRED": True,  # authorization code + PKCE only (RFC 7636); S256 only by the RFC 9700 switch below
    # The issuer named in tokens and discovery; empty = the site root of the request (development).
    "OIDC_ISS_ENDPOINT": env_str("YIWANG_OIDC_ISSUER", ""),
    # Previous signing keys stay published in the JWKS during rotation, so tokens they signed still verify.
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [Path(p).read_text() for p in env_list("YIWANG_OIDC_PREVIOUS_KEY_FILES", [])],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    # DOT's default lets refresh tokens live for ever; a working day is enough for a department system.
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("YIWANG_OAUTH_REFRESH_SECONDS", 8 * 3600, minimum=300, maximum=30 * 86400),
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # OAuth 2.0 Security Best Current Practice (RFC 9700): no implicit or password grants, S256 only,
    # tokens only in headers, iss in authorization responses, tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "OAUTH2_VALIDATOR_CLASS": "yiwang.identity.oidc.YiwangValidator",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "SCOPES": {
        "openid": "OpenID Connect sign-in",
        "profile": "Name and real-name status",
        "phone": "Phone number",
        "identity": "ID type and masked ID number",
        "agency": "Enterprise and agency the user acts for",
        "registers:verify": "Verify a person or enterprise against the base registers",
        "catalogue:read": "Read the service catalogue",
        "sharing:exchange": "Query shared data resources under the department's grants",
    },
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("YIWANG_OAUTH_TOKEN_SECONDS", 3600, minimum=60, maximum=86400),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REQUEST_APPROVAL_PROMPT": "auto",
}
# Generated on first start for development and tests; production (YIWANG_REQUIRE_SECRET_KEY) must mount it.
OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = load_or_create_rsa_key(
    _oidc_key_file, create=not env_bool("YIWANG_REQUIRE_SECRET_KEY", False)
)

# Cases (docs/cases.md)
# The largest material file accepted (uploads are checked by content as well as size).
YIWANG_MATERIAL_MAX_BYTES = env_int(
    "YIWANG_MATERIAL_MAX_BYTES", 20 * 1024 * 1024, minimum=1024, maximum=512 * 1024 * 1024
)
# 行政许可法 art. 42: a decision may be extended by 10 days with the approval of the head of the body.
YIWANG_MAX_EXTENSION_DAYS = env_int("YIWANG_MAX_EXTENSION_DAYS", 10, minimum=0, maximum=60)
# Yellow warning when a task or case is this many working days (or fewer) from its deadline.
YIWANG_WARNING_DAYS = env_int("YIWANG_WARNING_DAYS", 1, minimum=0, maximum=10)

# Data sharing (docs/sharing.md)
# The platform's Ed25519 key that signs every exchange answer (created on first start for development, like
# the OIDC key; production mounts it). Its public half is published at /api/v1/sharing/keys.
YIWANG_SHARING_KEY_FILE = Path(env_str("YIWANG_SHARING_KEY_FILE", str(DATA_DIR / "sharing-signing-key.pem")))
YIWANG_SHARING_CREATE_KEY = not env_bool("YIWANG_REQUIRE_SECRET_KEY", False)
