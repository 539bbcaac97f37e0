import { api, type Page } from "../api";
import { h, mount } from "../dom";
import { formatCents, formatTime, t } from "../i18n";

interface Balance { balance_cents: number; reserved_cents: number; available_cents: number; suspended_for_balance: boolean }
interface Entry { seq: number; kind: string; amount_cents: number; balance_after_cents: number; description: string; posted_at: string }
interface Statement { period: string; closing_balance_cents: number }
interface Download { csv_url: string; json_url: string }

export function balancePage(root: HTMLElement): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void (async () => {
    try {
      const [balance, ledger, statements] = await Promise.all([
        api<Balance>("GET", "/balance"),
        api<Page<Entry>>("GET", "/ledger", { query: { limit: 50 } }),
        api<{ items: Statement[] }>("GET", "/statements"),
      ]);
      mount(
        root,
        h("header", { class: "page-head" }, h("h1", {}, t("balance.title"))),
        balance.suspended_for_balance ? h("p", { class: "error", role: "alert" }, t("balance.suspended")) : null,
        h(
          "dl",
          { class: "facts big", "data-testid": "balance" },
          h("dt", {}, t("balance.available")), h("dd", {}, formatCents(balance.available_cents)),
          h("dt", {}, t("balance.reserved")), h("dd", {}, formatCents(balance.reserved_cents)),
        ),
        h("section", {}, h("h2", {}, t("balance.topup")), h("p", {}, t("balance.topupText"))),
        h(
          "section",
          {},
          h("h2", {}, t("balance.statements")),
          statements.items.length === 0
            ? h("p", { class: "muted" }, t("common.none"))
            : h("ul", {}, ...statements.items.map((s) =>
                h("li", {}, h("button", {
                  class: "link",
                  onclick: async () => {
                    const link = await api<Download>("GET", `/statements/${s.period}`);
                    window.open(link.csv_url, "_blank", "noopener");
                  },
                }, t("balance.download", { period: s.period })), " · ", formatCents(s.closing_balance_cents)))),
        ),
        h(
          "section",
          {},
          h("h2", {}, t("balance.ledger")),
          h("div", { class: "table-wrap" }, h("table", {},
            h("tbody", {}, ...ledger.items.map((e) =>
              h("tr", {}, h("td", {}, formatTime(e.posted_at)), h("td", {}, e.description || e.kind),
                h("td", { class: e.amount_cents < 0 ? "neg" : "pos" }, formatCents(e.amount_cents)),
                h("td", {}, formatCents(e.balance_after_cents))))))),
        ),
      );
    } catch (error) {
      mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    }
  })();
}
