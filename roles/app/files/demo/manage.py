#!/usr/bin/env python3
"""Demo shop: the smallest Django project that exercises the whole stack (a model, a migration,
a view that reads the database, a health URL that names the release)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
