"""The WhatsApp side imports no livekit module: its handler (and everything it loads) runs
in a small Lambda package without the voice agent's stack."""

from __future__ import annotations

import subprocess
import sys


def test_the_whatsapp_handlers_never_import_livekit() -> None:
    script = (
        "import functions.orders.handlers.whatsapp, functions.orders.handlers.whatsapp_admin, "
        "atende_local.fake_whatsapp; import sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'livekit'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
