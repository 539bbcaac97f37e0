// The orders feed: one poll every `pollSeconds` (3 s) while signed in, on every page, so
// a new order rings even while the kitchen looks at the menu. Why polling and not a push
// channel: docs/console.md ("Why polling").
import { announce } from "./alerts";
import { api, ApiError, type Page } from "./api";
import { config } from "./config";
import { toast } from "./dom";
import { t } from "./i18n";
import type { Order } from "./types";

type Listener = (orders: Order[]) => void;

let timer: number | undefined;
let primed = false;
const known = new Set<string>();
const listeners = new Set<Listener>();
let latest: Order[] = [];
let inFlight: Promise<void> | undefined;

export function onOrders(listener: Listener): () => void {
  listeners.add(listener);
  if (primed) listener(latest);
  return () => listeners.delete(listener);
}

export function startPolling(): void {
  if (timer !== undefined) return;
  void refresh();
  timer = window.setInterval(() => void refresh(), config().pollSeconds * 1000);
}

export function stopPolling(): void {
  window.clearInterval(timer);
  timer = undefined;
  primed = false;
  known.clear();
  latest = [];
}

export function refresh(): Promise<void> {
  inFlight ??= poll().finally(() => (inFlight = undefined));
  return inFlight;
}

async function poll(): Promise<void> {
  let page: Page<Order>;
  try {
    page = await api<Page<Order>>("GET", "/orders", { query: { limit: 100 } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) stopPolling();
    return; // a missed poll is retried by the next tick
  }
  const fresh = page.items.filter((o) => o.status === "received" && !known.has(o.order_id));
  for (const order of page.items) known.add(order.order_id);
  if (primed && fresh.length > 0) {
    announce(fresh.length);
    toast(t("board.newOrder", { number: fresh.map((o) => o.order_number).join(", #") }));
  }
  primed = true;
  latest = page.items;
  for (const listener of listeners) listener(latest);
}
