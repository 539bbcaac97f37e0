"""``python -m bench [NAME...]`` (``make bench``): run every ``bench/bench_*.py`` module's
``main()`` in turn, or only the named ones (``python -m bench local layer``).

A failing benchmark is reported and the others still run; the exit status is non-zero
if any failed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(here)]) if info.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> int:
    wanted = [a.removeprefix("bench_") for a in (sys.argv[1:] if argv is None else argv)]
    names = [n for n in discover() if not wanted or n.removeprefix("bench_") in wanted]
    if not names:
        print(f"no benchmark matches {wanted} (have: {', '.join(discover())})")
        return 2
    failed: list[str] = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.main()
        except Exception:
            failed.append(name)
            traceback.print_exc()
        print(f"== {name} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
