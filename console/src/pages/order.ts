import { api } from "../api";
import { h, mount } from "../dom";
import { formatCents, formatTime, paymentLabel, statusLabel, t } from "../i18n";
import { changeStatus, ENDING } from "../orders";
import type { CallRecord, Order, Turn } from "../types";

export function transcript(turns: Turn[] | undefined): HTMLElement {
  if (!turns || turns.length === 0) return h("p", { class: "muted" }, t("order.noTranscript"));
  return h(
    "ol",
    { class: "transcript", "data-testid": "transcript" },
    ...turns.map((turn) =>
      h(
        "li",
        { class: `turn ${turn.role}` },
        h("span", { class: "who" }, turn.role === "agent" ? t("role.agent") : t("role.caller")),
        h("span", { class: "text" }, turn.text),
      ),
    ),
  );
}

export function orderPage(root: HTMLElement, orderId: string): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void load(root, orderId);
}

async function load(root: HTMLElement, orderId: string): Promise<void> {
  let order: Order;
  try {
    order = await api<Order>("GET", `/orders/${encodeURIComponent(orderId)}`);
  } catch (error) {
    mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    return;
  }
  let call: CallRecord | null = null;
  if (order.call_id) {
    call = await api<CallRecord>("GET", `/call-records/${encodeURIComponent(order.call_id)}`).catch(() => null);
  }
  const act = async (status: string, reason?: string) => {
    if (await changeStatus(order, status, reason)) await load(root, orderId);
  };
  const actions = h("div", { class: "actions" });
  for (const next of order.allowed_transitions) {
    if (ENDING.has(next)) continue;
    actions.append(
      h("button", { class: "primary", "data-action": next, onclick: () => void act(next) },
        next === "accepted" ? t("order.accept") : t("order.to", { status: statusLabel(next) })),
    );
  }
  for (const ending of order.allowed_transitions.filter((s) => ENDING.has(s))) {
    const id = `reason-${ending}`;
    const input = h("input", { id, required: true, maxlength: 500 }) as HTMLInputElement;
    actions.append(
      h(
        "form",
        {
          class: "inline-form",
          onsubmit: (e: Event) => {
            e.preventDefault();
            if (input.value.trim()) void act(ending, input.value.trim());
          },
        },
        h("label", { for: id }, ending === "refused" ? t("order.refuseReason") : t("order.cancelReason")),
        input,
        h("button", { type: "submit", class: "danger", "data-action": ending },
          ending === "refused" ? t("order.refuseConfirm") : t("order.cancel")),
      ),
    );
  }
  const address = order.address;
  mount(
    root,
    h(
      "header",
      { class: "page-head" },
      h("a", { href: "#/orders", class: "back" }, "← ", t("common.back")),
      h("h1", {}, t("order.title", { number: order.order_number })),
      h("span", { class: `pill ${order.status}`, "data-testid": "order-status" }, statusLabel(order.status)),
    ),
    h(
      "div",
      { class: "detail" },
      h(
        "section",
        { "aria-labelledby": "h-lines" },
        h("h2", { id: "h-lines" }, t("order.lines")),
        h(
          "ul",
          { class: "lines" },
          ...order.lines.map((line) =>
            h(
              "li",
              {},
              h("div", { class: "line-head" }, h("strong", {}, `${line.quantity}× ${line.name}`), h("span", {}, formatCents(line.line_total_cents))),
              line.flavours?.length ? h("div", { class: "muted" }, `${t("order.flavours")}: `, line.flavours.map((f) => f.name).join(" / ")) : null,
              line.modifiers?.length
                ? h("div", { class: "muted" }, `${t("order.modifiers")}: `, line.modifiers.map((m) => (m.quantity > 1 ? `${m.quantity}× ${m.name}` : m.name)).join(", "))
                : null,
              line.notes ? h("div", { class: "muted" }, line.notes) : null,
            ),
          ),
        ),
        h(
          "dl",
          { class: "totals" },
          h("dt", {}, t("order.subtotal")), h("dd", {}, formatCents(order.subtotal_cents)),
          order.delivery_fee_cents ? h("dt", {}, t("order.deliveryFee")) : null,
          order.delivery_fee_cents ? h("dd", {}, formatCents(order.delivery_fee_cents)) : null,
          h("dt", {}, t("order.total")), h("dd", {}, h("strong", {}, formatCents(order.total_cents))),
        ),
        order.notes ? h("p", {}, h("strong", {}, `${t("order.notes")}: `), order.notes) : null,
      ),
      h(
        "section",
        { "aria-labelledby": "h-customer" },
        h("h2", { id: "h-customer" }, t("order.customer")),
        h("p", {}, [order.customer.name, order.customer.phone].filter(Boolean).join(" · ") || t("common.none")),
        h("h3", {}, order.fulfilment === "delivery" ? t("order.address") : t("order.pickup")),
        address
          ? h("p", {}, [address.street, address.number, address.complement, address.neighbourhood, address.city].filter(Boolean).join(", ") || address.raw,
              address.reference ? h("span", { class: "muted" }, ` (${address.reference})`) : null)
          : null,
        h("h3", {}, t("order.payment")),
        h("p", {}, order.payment ? paymentLabel(order.payment.method) : t("common.none"),
          order.payment?.change_for_cents ? ` · ${t("order.changeFor", { amount: formatCents(order.payment.change_for_cents) })}` : ""),
        actions,
      ),
      h(
        "section",
        { "aria-labelledby": "h-transcript", class: "wide" },
        h("h2", { id: "h-transcript" }, t("order.transcript")),
        transcript(call?.transcript?.turns),
      ),
      h(
        "section",
        { "aria-labelledby": "h-history", class: "wide" },
        h("h2", { id: "h-history" }, t("order.history")),
        h("ol", { class: "history" }, ...order.history.map((c) =>
          h("li", {}, `${formatTime(c.at)} · ${statusLabel(c.to_status)}`, c.reason ? ` — ${c.reason}` : ""))),
      ),
    ),
  );
}
