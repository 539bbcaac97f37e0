// Status changes, shared by the board and the order detail.
import { api, ApiError } from "./api";
import { toast } from "./dom";
import { t } from "./i18n";
import { refresh } from "./poller";
import type { Order } from "./types";

export const ENDING = new Set(["refused", "cancelled"]);

export async function changeStatus(order: Order, status: string, reason?: string): Promise<Order | null> {
  try {
    const body: { status: string; reason?: string } = { status };
    if (reason) body.reason = reason;
    const updated = await api<Order>("POST", `/orders/${encodeURIComponent(order.order_id)}/status`, {
      body,
      ifMatch: order.version,
    });
    void refresh();
    return updated;
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      toast(t("board.changed"), "error");
    } else if (error instanceof ApiError && error.status === 403) {
      toast(t("common.forbidden"), "error");
    } else {
      toast(t("common.error", { message: (error as Error).message }), "error");
    }
    void refresh();
    return null;
  }
}
