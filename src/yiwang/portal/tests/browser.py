"""The browser test setup shared by the portal's end-to-end tests (fixtures in this folder's conftest.py).

Debian's chromium is driven through Playwright's sync API against pytest-django's live server. A test module
calls ``require_chromium()`` first: on a developer machine without /usr/bin/chromium the module is skipped; in
CI (``CI`` set) it always runs. Screenshots for humans land in ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


def require_chromium() -> None:
    """Skip the calling test module when chromium is missing (outside CI); make the ORM usable beside Playwright."""
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
    # Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable from it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
