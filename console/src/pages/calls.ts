import { api, type Page } from "../api";
import { h, mount } from "../dom";
import { formatCents, formatSeconds, formatTime, t } from "../i18n";
import type { CallRecord } from "../types";
import { transcript } from "./order";

export function callsPage(root: HTMLElement): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void (async () => {
    try {
      const page = await api<Page<CallRecord>>("GET", "/call-records", { query: { limit: 50 } });
      mount(
        root,
        h("header", { class: "page-head" }, h("h1", {}, t("calls.title"))),
        page.items.length === 0
          ? h("p", { class: "muted" }, t("calls.empty"))
          : h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { "data-testid": "calls" },
                h("thead", {}, h("tr", {}, ...["calls.when", "calls.caller", "calls.duration", "calls.outcome", "calls.cost", "calls.order"].map((k) => h("th", { scope: "col" }, t(k as "calls.when"))))),
                h(
                  "tbody",
                  {},
                  ...page.items.map((c) =>
                    h(
                      "tr",
                      {},
                      h("td", {}, h("a", { href: `#/calls/${encodeURIComponent(c.call_id)}` }, formatTime(c.started_at))),
                      h("td", {}, c.caller_number ?? t("common.none")),
                      h("td", {}, formatSeconds(c.duration_seconds)),
                      h("td", {}, c.outcome ?? c.status),
                      h("td", {}, formatCents(c.charged_cents)),
                      h("td", {}, c.order_id ? h("a", { href: `#/orders/${encodeURIComponent(c.order_id)}` }, `#${c.order_number}`) : t("common.none")),
                    ),
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    }
  })();
}

export function callPage(root: HTMLElement, callId: string): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void (async () => {
    try {
      const c = await api<CallRecord>("GET", `/call-records/${encodeURIComponent(callId)}`);
      mount(
        root,
        h("header", { class: "page-head" }, h("a", { href: "#/calls", class: "back" }, "← ", t("common.back")), h("h1", {}, t("calls.detail", { id: formatTime(c.started_at) }))),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, t("calls.caller")), h("dd", {}, c.caller_number ?? t("common.none")),
          h("dt", {}, t("calls.duration")), h("dd", {}, formatSeconds(c.duration_seconds)),
          h("dt", {}, t("calls.outcome")), h("dd", {}, c.outcome ?? c.status),
          h("dt", {}, t("calls.cost")), h("dd", {}, formatCents(c.charged_cents)),
          h("dt", {}, t("calls.order")), h("dd", {}, c.order_id ? h("a", { href: `#/orders/${encodeURIComponent(c.order_id)}` }, `#${c.order_number}`) : t("common.none")),
          c.summary ? h("dt", {}, t("calls.summary")) : null, c.summary ? h("dd", {}, c.summary) : null,
        ),
        h("h2", {}, t("order.transcript")),
        transcript(c.transcript?.turns),
      );
    } catch (error) {
      mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    }
  })();
}
