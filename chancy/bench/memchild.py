"""Entry point of the memory suite's child worker: ``python -m chancy.bench.memchild ARGS``.

A module of its own so that ``-m`` does not execute a module the package already
imported.
"""

from __future__ import annotations

import asyncio
import json
import sys

from chancy.bench.memory import child

if __name__ == "__main__":
    print(json.dumps(asyncio.run(child(**json.loads(sys.argv[1])))))
