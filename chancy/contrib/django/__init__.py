"""chancy for Django projects (``pip install 'chancy[django]'``, Django 6).

Add ``"chancy.contrib.django"`` to ``INSTALLED_APPS`` (app label ``chancy``) to get
unmanaged models over chancy's tables, admin pages for jobs, queues and workers, and
:class:`~chancy.contrib.django.backend.ChancyBackend` for Django's Tasks framework. The
table prefix comes from ``settings.CHANCY_PREFIX`` (default ``chancy_``); the tables
themselves are created by chancy's migrations (``chancy misc migrate``), not Django's.
"""
