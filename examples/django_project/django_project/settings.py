"""Settings of the example project: chancy's admin, a Tasks backend and one app (shop).

The database comes from ``CHANCY_DSN`` (default: the local test database); chancy's
tables share it, so a task enqueued inside ``transaction.atomic()`` commits or rolls
back with the block.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

_dsn = urlsplit(os.environ.get("CHANCY_DSN", "postgresql://root@127.0.0.1:5432/test"))
#: A Unix-socket DSN names its directory as ``?host=/path``.
_socket = parse_qs(_dsn.query).get("host", [""])[0]

SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "django_project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _dsn.path.lstrip("/") or "postgres",
        "USER": _dsn.username or "",
        "PASSWORD": _dsn.password or "",
        "HOST": _dsn.hostname or _socket,
        "PORT": str(_dsn.port or ""),
        # The test database's name (Django's default is "test_" + NAME); chancy's own
        # test run gives each run its own, so two runs on one server never collide.
        "TEST": {"NAME": os.environ.get("DJANGO_TEST_DATABASE")},
    }
}

#: chancy's table prefix; the admin and the Tasks backend read it.
CHANCY_PREFIX = os.environ.get("CHANCY_PREFIX", "chancy_")

TASKS = {
    "default": {
        "BACKEND": "chancy.contrib.django.backend.ChancyBackend",
        "QUEUES": [],  # any queue name
        "OPTIONS": {"queue": "default"},
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "chancy.contrib.django",
    "shop",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "static/"
