"""The ``yiwang`` console command: a thin wrapper around Django's manage.py.

Every operational command (migrate, catalogue import/export/check, demo data, …) runs as
``yiwang <command>`` so operators never need to know where settings live.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yiwang", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
