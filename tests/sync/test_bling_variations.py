"""Bling products with variations fold into one menu item whose options are the variations
(sizes), instead of one item per variation."""

from __future__ import annotations

from functions.sync.models.runs import RunStatus


def test_variations_fold_into_one_item_with_options(harness):
    # Given a pizza with three size variations (one inactive) and a plain drink
    h = harness
    h.bling.add_variations(
        100,
        [(101, "Tamanho:Grande", 59.9), (102, "Tamanho:Média", 49.9), (103, "Tamanho:Broto", None)],
        nome="Pizza Calabresa",
    )
    h.bling.touch(103, situacao="I")
    h.bling.add_product(200, nome="Coca-Cola 2L", preco=14)

    # When the catalog is mirrored
    run = h.sync("full")

    # Then the pizza is one item with its sizes as options, priced in cents, and no
    # variation became an item of its own
    assert run.status == RunStatus.SUCCEEDED
    menu = h.menu().by_id()
    assert set(menu) == {"bling-100", "bling-200"}
    pizza = menu["bling-100"]
    assert [(o.name, o.price_cents, o.available) for o in pizza.options] == [
        ("Grande", 5990, True),
        ("Média", 4990, True),
        ("Broto", 0, False),
    ]
