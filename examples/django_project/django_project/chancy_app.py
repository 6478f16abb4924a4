"""The chancy app a worker loads: ``chancy --app django_project.chancy_app:chancy worker start``.

Django is set up first, so task functions can use the ORM; the app shares Django's
``default`` database and table prefix.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
django.setup()

from django.conf import settings  # noqa: E402

from chancy import Chancy  # noqa: E402

chancy = Chancy(settings.DATABASES["default"], prefix=settings.CHANCY_PREFIX)
