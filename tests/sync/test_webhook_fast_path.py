"""Bling/Plugg.to/custom webhooks (as InboundEvent from ingress) applied by the worker."""

from __future__ import annotations

from datetime import timedelta

from atende_shared.models.envelope import InboundEvent, Provider


def inbound(h, provider: Provider, payload: dict, *, type_: str, event_id: str) -> str:
    return InboundEvent(
        tenant_id=h.tenant_id,
        provider=provider,
        provider_event_id=event_id,
        type=type_,
        occurred_at=h.clock.now(),
        correlation_id="corr-1",
        payload=payload,
    ).model_dump_json()


def bling_event(h, event: str, data: dict, event_id: str = "e1", **kw) -> str:
    body = h.bling.webhook(event, data, event_id=event_id)
    body.update(kw)
    return inbound(h, Provider.BLING, body, type_=event, event_id=body["eventId"])


def test_product_updated_re_reads_the_product_and_applies_it(harness):
    h = harness
    for pid in (1, 2):
        h.bling.add_product(pid)
    h.sync("full")
    h.bling.touch(1, preco=42.5, nome="Pizza grande")
    worker = h.worker()

    # The webhook body may be stale or reordered: the worker re-reads the product.
    outcome = worker.handle(bling_event(h, "product.updated", {"id": 1, "preco": 1.0}))

    assert outcome == "applied"
    item = h.menu().by_id()["bling-1"]
    assert item.price_cents == 4250
    assert item.name == "Pizza grande"
    assert h.events.events[-1].items_upserted == 1


def test_duplicate_webhooks_write_once(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    h.bling.touch(1, preco=20)
    worker = h.worker()
    before = h.catalog.items_written

    worker.handle(bling_event(h, "product.updated", {"id": 1}, event_id="dup"))
    worker.handle(bling_event(h, "product.updated", {"id": 1}, event_id="dup"))

    assert h.catalog.items_written == before + 1


def test_a_new_product_webhook_creates_the_item(harness):
    h = harness
    h.bling.add_product(9, nome="Esfiha")
    h.harness_worker = h.worker()
    h.harness_worker.handle(bling_event(h, "product.created", {"id": 9}))
    assert h.menu().by_id()["bling-9"].name == "Esfiha"


def test_stock_to_zero_makes_the_item_sold_out_and_reordered_events_are_ignored(harness):
    h = harness
    h.bling.add_product(1, stock=5)
    h.sync("full")
    worker = h.worker()
    newer = bling_event(
        h,
        "stock.updated",
        {"produto": {"id": 1}, "saldoVirtualTotal": 0, "saldoFisicoTotal": 0},
        event_id="s2",
    )
    older_body = h.bling.webhook(
        "stock.updated", {"produto": {"id": 1}, "saldoVirtualTotal": 4}, event_id="s1"
    )
    older_body["date"] = (h.clock.now() - timedelta(minutes=1)).isoformat()
    older = inbound(h, Provider.BLING, older_body, type_="stock.updated", event_id="s1")

    worker.handle(newer)
    worker.handle(older)  # arrives late: must not resurrect the stock

    item = h.menu().by_id()["bling-1"]
    assert item.stock == 0
    assert not item.sellable
    assert not [
        r for r in h.bling.log if r[1] == "/estoques/saldos" and r[2].get("idsProdutos[]") == ["1"]
    ][1:]


def test_complex_link_stock_events_re_read_the_balance(harness):
    h = harness
    h.bling.add_product(1, stock=5)
    h.sync("full")
    h.bling.balances[1] = 2
    h.bling.log.clear()

    h.worker().handle(
        bling_event(
            h,
            "virtual_stock.updated",
            {"produto": {"id": 1}, "saldoVirtualTotal": 99, "vinculoComplexo": True},
        )
    )

    assert h.menu().by_id()["bling-1"].stock == 2
    assert [r[1] for r in h.bling.log] == ["/estoques/saldos"]


def test_product_deleted_hides_the_item(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    h.worker().handle(bling_event(h, "product.deleted", {"id": 1}))
    assert not h.menu().by_id()["bling-1"].available


def test_webhook_changes_are_counted_in_the_daily_webhook_run(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    h.bling.touch(1, preco=11)
    h.worker().handle(bling_event(h, "product.updated", {"id": 1}))
    runs = {r.run_id: r for r in h.runs.list_runs(h.tenant_id)[0]}
    daily = runs[f"webhooks-{h.clock.now():%Y%m%d}"]
    assert daily.counts.updated == 1
    assert daily.mode == "webhook"


def test_custom_events_upsert_and_update_stock(harness):
    h = harness
    worker = h.worker()
    worker.handle(
        inbound(
            h,
            Provider.CUSTOM,
            {
                "type": "catalog.upsert",
                "data": {
                    "records": [{"source_id": "x1", "name": "Suco", "price": 7.5, "stock": 3}]
                },
            },
            type_="catalog.upsert",
            event_id="c1",
        )
    )
    worker.handle(
        inbound(h, Provider.CUSTOM, {"balances": {"x1": 0}}, type_="stock.updated", event_id="c2")
    )
    item = h.menu().by_id()["custom-x1"]
    assert item.price_cents == 750
    assert item.stock == 0


def test_order_events_are_acknowledged_and_ignored(harness):
    h = harness
    assert h.worker().handle(bling_event(h, "order.created", {"id": 5})) == "ignored"


def test_a_bling_stock_event_with_only_the_physical_total_is_applied(harness):
    # Given a Bling stock event shaped as Bling documents it for the ``stock`` resource
    # (developer.bling.com.br/webhooks, "Estoque": data = {produto: {id}, deposito: {id,
    # saldoFisico, saldoVirtual}, operacao, quantidade, saldoFisicoTotal}) carrying the
    # physical total only: it was dead-lettered before ("stock event without
    # saldoVirtualTotal")
    h = harness
    h.bling.add_product(1, stock=5)
    h.sync("full")
    event = bling_event(
        h,
        "stock.updated",
        {
            "produto": {"id": 1},
            "deposito": {"id": 14886873196, "saldoFisico": 3, "saldoVirtual": 3},
            "operacao": "S",
            "quantidade": 2,
            "saldoFisicoTotal": 3,
        },
        event_id="fisico",
    )
    # When the worker applies it, then the item's stock is the physical total
    assert h.worker().handle(event) == "applied"
    assert h.menu().by_id()["bling-1"].stock == 3


def test_a_bling_stock_event_without_totals_reads_the_balance_back(harness):
    # Given a stock event that names the product but carries no total
    h = harness
    h.bling.add_product(1, stock=7)
    h.sync("full")
    event = bling_event(h, "stock.updated", {"produto": {"id": 1}}, event_id="none")
    # When applied, then the balance is read back from Bling instead of dead-lettering
    assert h.worker().handle(event) == "applied"
    assert h.menu().by_id()["bling-1"].stock == 7
    assert [r[1] for r in h.bling.log][-1] == "/estoques/saldos"
