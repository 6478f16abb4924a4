"""``python -m chancy.bench``."""

from __future__ import annotations

import sys

from chancy.bench.runner import main

sys.exit(main())
