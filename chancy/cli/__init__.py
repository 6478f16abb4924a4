"""The ``chancy`` command line: ``chancy --app module:attr <group> <command>``.

One module per command group (:mod:`~chancy.cli.misc`, :mod:`~chancy.cli.queue` with
:mod:`~chancy.cli.push`, :mod:`~chancy.cli.job`, :mod:`~chancy.cli.worker`,
:mod:`~chancy.cli.cron`, :mod:`~chancy.cli.workflow`, :mod:`~chancy.cli.bench`), assembled
in :mod:`~chancy.cli.main`. :mod:`~chancy.cli.common` loads the app and turns errors into
one line; :mod:`~chancy.cli.output` is the one way every command prints.
"""
