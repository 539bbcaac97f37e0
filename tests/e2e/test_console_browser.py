"""The restaurant console in a real browser (Debian's Chromium driven by Playwright).

Against the local platform in its subprocess: the demo owner signs in; a scripted call's
order appears on the board, is accepted, made ready and completed with the board's own
buttons, and the customer's WhatsApp messages are recorded by the fake gateway; an item
switched to "acabou" is refused on the next call; another restaurant's owner sees none of
the demo's orders. Screenshots of every page at phone and desktop width go to
``artifacts/console/`` (git-ignored) as test artifacts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import tests.e2e.test_call as call_module
from atende_local.console_site import DIST
from tests.e2e.conftest import PlatformClient
from tests.e2e.test_call import _call

CHROMIUM = Path(os.environ.get("ATENDE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SOLD_OUT_SCRIPT = """\
oi, quero uma pizza portuguesa grande e uma coca
só isso
vou buscar no balcão
sim
"""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} missing: run atende_local/console_install.sh (make console)",
    ),
    pytest.mark.skipif(
        not (DIST / "index.html").exists(),
        reason="console not built: run atende_local/console_install.sh (make console)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # root (CI, containers) cannot use Chromium's sandbox
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()


def _user(platform: PlatformClient, tenant_id: str, role: str = "owner") -> dict[str, str]:
    users = platform.state["console"]["users"]
    return dict(next(u for u in users if u["tenant_id"] == tenant_id and u["role"] == role))


def signed_in(
    browser: Browser, platform: PlatformClient, user: dict[str, str], viewport: dict[str, int]
) -> Page:
    page = browser.new_context(viewport=viewport, locale="pt-BR").new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{platform.base_url}/console/")
    page.get_by_label("E-mail").fill(user["username"])
    page.get_by_label("Senha", exact=True).fill(user["password"])
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_test_id("board")).to_be_visible()
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def _messages(platform: PlatformClient) -> list[dict[str, Any]]:
    answer = platform.http.get("/_local/whatsapp/messages", headers=platform.admin)
    return list(answer.json().get("messages", []))


def test_an_order_is_run_from_the_board(platform: PlatformClient, browser: Browser, tmp_path: Path):
    # Given the demo owner on the board
    page = signed_in(browser, platform, _user(platform, platform.demo_tenant_id), DESKTOP)
    expect(page).to_have_title(re.compile(r"^Atende"))
    platform.http.delete("/_local/whatsapp/messages", headers=platform.admin)

    # When a scripted call places an order
    outcome = _call(platform, tmp_path)
    order_id = outcome["order"]["order_id"]

    # Then it appears among the new orders within seconds, with a badge in the tab title
    card = page.locator(f'[data-testid=order-card][data-order-id="{order_id}"]')
    expect(card).to_have_attribute("data-status", "received", timeout=30_000)
    expect(
        page.get_by_test_id("column-new").locator(f'[data-order-id="{order_id}"]')
    ).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(\d+\) Atende"))
    number = card.get_attribute("data-order-number")
    shot(page, "board")

    # When the kitchen accepts it, has it ready and completes it with the board's buttons
    for action in ("accepted", "ready", "completed"):
        card.locator(f'[data-action="{action}"]').click()
        expect(card).to_have_attribute("data-status", action)
    expect(
        page.get_by_test_id("column-done").locator(f'[data-order-id="{order_id}"]')
    ).to_be_visible()

    # Then the change was the restaurant user's, made through /app
    stored = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}/orders/{order_id}", headers=platform.admin
    ).json()
    assert stored["status"] == "completed"
    assert all(c["actor"].startswith("tenant-user:") for c in stored["history"][1:])

    # And the customer was told on WhatsApp (the fake gateway recorded it)
    def told() -> list[str] | None:
        texts = [m["text"] for m in _messages(platform) if f"#{number}" in m["text"]]
        accepted = [t for t in texts if "aceito" in t]
        ready = [t for t in texts if "pronto" in t]
        return texts if accepted and ready else None

    platform.wait_for(told, timeout=60)

    # And the order's detail shows its lines and the call's transcript
    page.get_by_role("link", name=f"Abrir pedido #{number}").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Concluído")
    expect(page.get_by_test_id("transcript")).to_contain_text("Pizzaria Demo")
    shot(page, "order")


def _menu_item(platform: PlatformClient, item_id: str) -> dict[str, Any]:
    menu = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}/menu", headers=platform.admin
    ).json()["menu"]
    return dict(next(i for i in menu["items"] if i["item_id"] == item_id))


def test_an_item_marked_sold_out_is_refused_on_the_next_call(
    platform: PlatformClient, browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    page = signed_in(browser, platform, _user(platform, platform.demo_tenant_id), DESKTOP)
    page.get_by_role("link", name="Cardápio").click()
    switch = page.get_by_test_id("available-pizza-portuguesa")
    expect(switch).to_be_checked()
    try:
        # When the owner marks "Portuguesa" as sold out ("acabou")
        switch.uncheck()
        expect(switch).not_to_be_checked()
        expect(switch).to_be_enabled()
        assert _menu_item(platform, "pizza-portuguesa")["available"] is False

        # Then the next caller who asks for it gets everything else, not the Portuguesa
        monkeypatch.setattr(call_module, "SCRIPT", SOLD_OUT_SCRIPT)
        outcome = _call(platform, tmp_path)
        ordered = [line["item_id"] for line in outcome["cart"]]
        assert "pizza-portuguesa" not in ordered
        assert "coca-cola-2l" in ordered
        shot(page, "menu")
    finally:
        # And switching it back restores it (the session's other tests order from it)
        if not switch.is_checked():
            switch.check()
            expect(switch).to_be_enabled()
        assert _menu_item(platform, "pizza-portuguesa")["available"] is True


def test_another_restaurants_owner_sees_none_of_the_demo_orders(
    platform: PlatformClient, browser: Browser, tmp_path: Path
):
    # Given a demo order
    demo_orders = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}/orders", headers=platform.admin
    ).json()["items"]
    if not demo_orders:
        demo_orders = [_call(platform, tmp_path)["order"]]
    demo_ids = {o["order_id"] for o in demo_orders}

    # When the other restaurant's owner signs in
    page = signed_in(browser, platform, _user(platform, "outra-pizzaria"), PHONE)
    page.wait_for_timeout(3_500)  # one more poll

    # Then no demo order is on their board
    shown = page.get_by_test_id("order-card").evaluate_all(
        "cards => cards.map(c => c.dataset.orderId)"
    )
    assert demo_ids.isdisjoint(shown)

    # And opening a demo order directly shows an error, not the order
    some_id = next(iter(demo_ids))
    page.goto(f"{platform.base_url}/console/#/orders/{some_id}")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_test_id("transcript")).to_have_count(0)

    # And the API itself refuses their token on the demo tenant
    status = page.evaluate(
        """async ([tenant, id]) => {
            const session = JSON.parse(sessionStorage.getItem("atende.session"));
            const r = await fetch(`/app/v1/tenants/${tenant}/orders/${id}`,
                                  {headers: {Authorization: session.idToken}});
            return r.status;
        }""",
        [platform.demo_tenant_id, some_id],
    )
    assert status == 403


def test_the_wizards_test_call_says_why_there_is_no_audio_locally(
    platform: PlatformClient, browser: Browser
):
    # Given the local platform with its LiveKit stand-in (no media server)
    assert platform.livekit["mode"] == "fake"
    page = signed_in(browser, platform, _user(platform, platform.demo_tenant_id), DESKTOP)
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    page.get_by_role("link", name="Primeiros passos").click()
    # When the owner starts the browser test call
    page.get_by_test_id("test-call").click()
    # Then a token is minted through /app and the page says precisely why there is no audio
    status = page.get_by_test_id("test-call-status")
    expect(status).to_contain_text("Sem áudio")
    expect(status).to_contain_text("ATENDE_MEDIA=real")
    assert any("/app/v1/tenants/demo-pizzaria/test-call-token" in url for url in loaded)
    # And the LiveKit client (most of the app's weight) was never downloaded for it
    assert not any("chunk-" in url for url in loaded)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_renders_at_phone_and_desktop_width(
    platform: PlatformClient, browser: Browser, viewport: dict[str, int]
):
    page = signed_in(browser, platform, _user(platform, platform.demo_tenant_id), viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shot(page, "orders")
    for hash_, ready in (
        ("#/calls", "h1"),
        ("#/menu", "[data-testid=menu-item]"),
        ("#/settings", "form.settings-form"),
        ("#/balance", "[data-testid=balance]"),
        ("#/onboarding", "[data-testid=test-call]"),
    ):
        page.goto(f"{platform.base_url}/console/{hash_}")
        expect(page.locator(ready).first).to_be_visible()
        # No horizontal scrolling of the page itself on a phone
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{hash_} overflows by {overflow}px at {viewport['width']}px"
        shot(page, hash_.strip("#/"))
    assert errors == []


def test_an_invited_user_sets_a_new_password_at_the_first_sign_in(
    platform: PlatformClient, browser: Browser
):
    import time

    import boto3

    # Given a staff user invited by an admin, with Cognito's temporary password
    email = f"caixa-{int(time.time() * 1000)}@pizzaria-demo.local"
    answer = platform.http.post(
        f"/v1/tenants/{platform.demo_tenant_id}/users",
        headers=platform.admin,
        json={"email": email, "role": "staff"},
    )
    assert answer.status_code == 201, answer.text
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=platform.state["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="atende-local",
        aws_secret_access_key="atende-local",
    )
    temporary = "Temporaria-2026!"  # what Cognito would have e-mailed
    cognito.admin_set_user_password(
        UserPoolId=platform.state["console"]["user_pool_id"],
        Username=email,
        Password=temporary,
        Permanent=False,
    )
    page = browser.new_context(viewport=PHONE, locale="pt-BR").new_page()
    page.goto(f"{platform.base_url}/console/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha", exact=True).fill(temporary)
    page.get_by_role("button", name="Entrar").click()
    # When the console asks for a new password and gets one
    expect(page.get_by_role("alert")).to_contain_text("Primeiro acesso")
    page.get_by_label("Nova senha").fill("Nova-senha-forte-2026!")
    page.get_by_role("button", name="Entrar").click()
    # Then the user is on the board, as staff (no balance in the menu)
    expect(page.get_by_test_id("board")).to_be_visible()
    expect(page.get_by_role("link", name="Saldo")).to_have_count(0)


def test_the_owner_changes_the_shops_settings_but_never_its_plan(
    platform: PlatformClient, browser: Browser
):
    tenant = platform.demo_tenant_id

    def stored() -> dict[str, Any]:
        return dict(platform.http.get(f"/v1/tenants/{tenant}", headers=platform.admin).json())

    before = stored()
    page = signed_in(browser, platform, _user(platform, tenant), DESKTOP)
    page.get_by_role("link", name="Configurações").click()
    form = page.get_by_test_id("shop-form")
    try:
        # When the owner sets a 7-minute acceptance window and saves
        form.get_by_label("Prazo para aceitar (minutos)").fill("7")
        form.get_by_role("button", name="Salvar").click()
        expect(page.locator("#toast")).to_have_text("Salvo.")
        # Then the tenant has it, and nothing else of the admin's changed
        after = stored()
        assert after["orders"]["acceptance_window_minutes"] == 7
        assert (after["plan"], after["integrations"]) == (before["plan"], before["integrations"])
        # And an invalid number is refused next to its field
        form.get_by_label("WhatsApp que recebe os pedidos").fill("not a phone")
        form.get_by_role("button", name="Salvar").click()
        expect(page.locator("#err-notification_phone")).not_to_be_empty()
    finally:
        platform.http.patch(
            f"/v1/tenants/{tenant}/shop",
            headers=platform.admin,
            json={
                "acceptance_window_minutes": before["orders"]["acceptance_window_minutes"],
                "notification_phone": before["orders"]["notification_phone"],
            },
        )
