"""A stand-in for the ``chancy`` root group with the ``web`` command, and an app factory.

The real CLI registers ``web`` under ``worker``; these tests drive the command object
itself. The app's DSN and prefix come from the environment, set by each test.
"""

from __future__ import annotations

import os

import click

from chancy import Chancy
from chancy.cli.web import web


@click.group()
@click.option("--app", "-a")
def root(app: str | None) -> None:
    """Test root."""


root.add_command(web)


def make_app() -> Chancy:
    return Chancy(
        os.environ["CHANCY_TEST_DSN"], prefix=os.environ["WEB_TEST_PREFIX"], no_default_plugins=True
    )


if __name__ == "__main__":
    root()
