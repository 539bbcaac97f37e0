"""A running fake Z-API/Evolution send API with one instance of each (and a v1 server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atende_local import fake_whatsapp
from atende_local.fake_whatsapp import EvolutionInstance, FakeWhatsAppServer, ZapiInstance
from atende_shared.whatsapp.resilience import reset_breakers

ZAPI = ZapiInstance(instance_id="INST1", instance_token="itoken", client_token="ctoken")
EVOLUTION = EvolutionInstance(name="loja", apikey="evo-key", version="v2")
EVOLUTION_V1 = EvolutionInstance(name="loja-antiga", apikey="evo-v1-key", version="v1")
GLOBAL_KEY = "evo-global-key"


@pytest.fixture
def gateway() -> Iterator[FakeWhatsAppServer]:
    """Given the fake gateways on a free loopback port."""
    server = fake_whatsapp.start("127.0.0.1", 0)
    server.fake.add_zapi(ZAPI)
    server.fake.add_evolution(EVOLUTION)
    server.fake.add_evolution(EVOLUTION_V1)
    server.fake.evolution_global_apikey = GLOBAL_KEY
    reset_breakers()
    yield server
    server.stop()
    reset_breakers()
