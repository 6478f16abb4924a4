"""An app as a user writes it for the embedded server: ``Chancy()``, no DSN anywhere.

Used by ``chancy --app tests.embedded.cli_app:app worker start`` in the sharing tests;
the Process executor's children import this module too, and join the same server.
"""

from __future__ import annotations

import os

from chancy import Chancy, job

app = Chancy(prefix=os.environ.get("CLI_APP_PREFIX", "cliapp_"), no_default_plugins=True)


@job()
def double(x: int) -> int:
    return 2 * x
