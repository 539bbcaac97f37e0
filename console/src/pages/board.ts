import { seen } from "../alerts";
import { config } from "../config";
import { h, mount } from "../dom";
import { formatCents, formatTime, statusLabel, t } from "../i18n";
import { changeStatus, ENDING } from "../orders";
import { onOrders } from "../poller";
import type { Order } from "../types";

const COLUMNS: { key: string; label: () => string; statuses: string[] }[] = [
  { key: "new", label: () => t("board.col.new"), statuses: ["received"] },
  { key: "kitchen", label: () => t("board.col.kitchen"), statuses: ["accepted", "preparing"] },
  { key: "ready", label: () => t("board.col.ready"), statuses: ["ready", "out_for_delivery"] },
  { key: "done", label: () => t("board.col.done"), statuses: ["completed", "refused", "cancelled"] },
];

const drafts = new Map<string, string>();

export function boardPage(root: HTMLElement): () => void {
  seen();
  const board = h("div", { class: "board", "data-testid": "board" });
  mount(
    root,
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, t("board.title")),
      h("p", { class: "muted" }, t("board.live", { seconds: config().pollSeconds })),
    ),
    board,
  );
  const openForms = new Set<string>();
  const render = (orders: Order[]) => {
    // Re-rendered every poll: keep the focused control (keyboard users) and typed reasons.
    const focused = document.activeElement?.id;
    mount(
      board,
      ...COLUMNS.map((column) => {
        const inColumn = orders
          .filter((o) => column.statuses.includes(o.status))
          .sort((a, b) => (column.key === "done" ? b.order_number - a.order_number : a.order_number - b.order_number))
          .slice(0, column.key === "done" ? 12 : 100);
        return h(
          "section",
          { class: `column column-${column.key}`, "aria-labelledby": `col-${column.key}`, "data-testid": `column-${column.key}` },
          h("h2", { id: `col-${column.key}` }, column.label(), " ", h("span", { class: "count" }, inColumn.length)),
          inColumn.length === 0 ? h("p", { class: "muted" }, t("board.empty")) : null,
          ...inColumn.map((order) => card(order, openForms, () => render(orders))),
        );
      }),
    );
    if (focused) document.getElementById(focused)?.focus();
  };
  return onOrders(render);
}

function card(order: Order, openForms: Set<string>, rerender: () => void): HTMLElement {
  const items = order.lines.map((l) => `${l.quantity}× ${l.name}`).join(", ");
  const actions = h("div", { class: "actions" });
  if (order.status === "received") {
    actions.append(
      h("button", { class: "primary", "data-action": "accepted", onclick: () => void changeStatus(order, "accepted") }, t("order.accept")),
      h(
        "button",
        {
          class: "danger",
          "data-action": "refuse",
          "aria-expanded": openForms.has(order.order_id) ? "true" : "false",
          onclick: () => {
            if (openForms.has(order.order_id)) openForms.delete(order.order_id);
            else openForms.add(order.order_id);
            rerender();
            document.getElementById(`reason-${order.order_id}`)?.focus();
          },
        },
        t("order.refuse"),
      ),
    );
  } else {
    for (const next of order.allowed_transitions.filter((s) => !ENDING.has(s))) {
      actions.append(
        h(
          "button",
          { class: "primary", "data-action": next, onclick: () => void changeStatus(order, next) },
          t("order.to", { status: statusLabel(next) }),
        ),
      );
    }
  }
  for (const button of actions.querySelectorAll("button")) {
    button.id = `act-${order.order_id}-${button.dataset.action}`;
  }
  const refuse = openForms.has(order.order_id) ? refuseForm(order, openForms) : null;
  return h(
    "article",
    {
      class: `card status-${order.status}`,
      "data-testid": "order-card",
      "data-order-number": order.order_number,
      "data-order-id": order.order_id,
      "data-status": order.status,
      "aria-label": t("order.title", { number: order.order_number }),
    },
    h(
      "header",
      {},
      h("a", { href: `#/orders/${encodeURIComponent(order.order_id)}`, "aria-label": t("order.open", { number: order.order_number }) }, `#${order.order_number}`),
      h("span", { class: "muted" }, formatTime(order.placed_at)),
      h("span", { class: `pill ${order.status}` }, statusLabel(order.status)),
    ),
    h("p", { class: "items" }, items),
    h(
      "p",
      { class: "meta" },
      order.customer.name ?? order.customer.phone ?? "",
      " · ",
      order.fulfilment === "delivery" ? t("order.delivery") : t("order.pickup"),
      " · ",
      h("strong", {}, formatCents(order.total_cents)),
    ),
    order.status_reason ? h("p", { class: "muted" }, order.status_reason) : null,
    actions,
    refuse,
  );
}

function refuseForm(order: Order, openForms: Set<string>): HTMLElement {
  const id = `reason-${order.order_id}`;
  const input = h("input", { id, name: "reason", required: true, maxlength: 500, autocomplete: "off" }) as HTMLInputElement;
  input.value = drafts.get(order.order_id) ?? "";
  input.addEventListener("input", () => drafts.set(order.order_id, input.value));
  const form = h(
    "form",
    {
      class: "inline-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (!input.value.trim()) return input.focus();
        openForms.delete(order.order_id);
        drafts.delete(order.order_id);
        void changeStatus(order, "refused", input.value.trim());
      },
    },
    h("label", { for: id }, t("order.refuseReason")),
    input,
    h("button", { type: "submit", class: "danger", "data-action": "refused" }, t("order.refuseConfirm")),
  );
  return form;
}
