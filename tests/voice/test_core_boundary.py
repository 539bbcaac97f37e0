"""The ordering core is channel-neutral: importing it (and running a whole turn through it)
never loads livekit-agents, so the WhatsApp Lambda can import it without the agent's stack."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_ordering_core_never_imports_livekit() -> None:
    # Given a fresh interpreter that imports every module of the core and runs one turn
    script = textwrap.dedent(
        """
        import asyncio, pkgutil, importlib, sys
        import atende_shared.ordering as core
        for mod in pkgutil.iter_modules(core.__path__):
            importlib.import_module(f"atende_shared.ordering.{mod.name}")
        from atende_shared.models.menu import Menu, MenuItem
        from atende_shared.models.tenant import AgentConfig, Tenant
        from atende_shared.ordering.dialogue import respond
        from atende_shared.ordering.state import OrderState

        class Pub:
            def publish(self, events):
                pass

        state = OrderState(
            tenant=Tenant(tenant_id="t-1", name="T"),
            agent_config=AgentConfig(tenant_id="t-1"),
            menu=Menu(items=[MenuItem(item_id="coca", name="Coca", price_cents=500)]),
            conversation_id="c-1",
            channel="whatsapp",
        )
        reply = asyncio.run(respond(state, "duas cocas", publisher=Pub()))
        assert state.cart[0].quantity == 2, reply
        print(sorted(m for m in sys.modules if m.split(".")[0] == "livekit"))
        """
    )
    # When it runs
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    # Then the turn worked and no livekit module was loaded
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
