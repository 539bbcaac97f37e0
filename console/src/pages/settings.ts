// Agent settings are the owner's to edit (PUT /agent); the shop's data (hours, languages,
// numbers, acceptance window, delivery zones) is shown read-only: the tenant PATCH route
// also carries the billing plan, so it stays with the platform's admins for now.
import { api, ApiError } from "../api";
import { currentSession } from "../auth";
import { h, mount, toast } from "../dom";
import { t } from "../i18n";

interface Agent { greeting: string; language: string; transfer_number: string | null; [k: string]: unknown }
interface Tenant {
  name: string;
  version: number;
  languages: string[];
  opening_hours: { day: string; opens: string; closes: string }[];
  orders?: { notification_phone?: string | null; acceptance_window_minutes?: number; on_acceptance_timeout?: string };
  delivery_zones?: { name?: string; fee_cents?: number }[];
  [k: string]: unknown;
}

export function settingsPage(root: HTMLElement): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void load(root);
}

async function load(root: HTMLElement): Promise<void> {
  const owner = currentSession()?.role === "owner";
  let tenant: Tenant;
  let agent: Agent | null = null;
  try {
    tenant = await api<Tenant>("GET", "");
    if (owner) agent = await api<Agent>("GET", "/agent");
  } catch (error) {
    mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    return;
  }
  const errors = new Map<string, HTMLElement>();
  const field = (id: string, label: string, value: string, multiline = false) => {
    const input = (multiline
      ? h("textarea", { id, name: id, rows: 3, "aria-describedby": `err-${id}` })
      : h("input", { id, name: id, "aria-describedby": `err-${id}` })) as HTMLInputElement;
    input.value = value;
    const error = h("span", { class: "field-error", id: `err-${id}`, role: "alert" });
    errors.set(id, error);
    return h("div", { class: "form-row" }, h("label", { for: id }, label), input, error);
  };
  const agentForm = agent
    ? h(
        "form",
        {
          class: "settings-form",
          onsubmit: async (e: Event) => {
            e.preventDefault();
            const form = e.currentTarget as HTMLFormElement;
            const data = new FormData(form);
            const body = {
              ...stripView(agent as Agent),
              greeting: String(data.get("greeting") ?? ""),
              language: String(data.get("language") ?? "pt-BR"),
              transfer_number: String(data.get("transfer_number") ?? "") || null,
            };
            for (const slot of errors.values()) slot.textContent = "";
            try {
              agent = await api<Agent>("PUT", "/agent", { body });
              toast(t("common.saved"));
            } catch (error) {
              if (error instanceof ApiError && error.status === 422) {
                for (const p of error.fields) {
                  const slot = errors.get(p.field);
                  if (slot) slot.textContent = p.problem;
                }
              }
              toast(t("common.error", { message: (error as Error).message }), "error");
            }
          },
        },
        field("greeting", t("settings.greeting"), agent.greeting, true),
        field("language", t("settings.language"), agent.language),
        field("transfer_number", t("settings.transfer"), agent.transfer_number ?? ""),
        h("button", { type: "submit", class: "primary" }, t("common.save")),
      )
    : h("p", { class: "muted" }, t("settings.ownerOnly"));
  const shopForm = owner
    ? h(
        "form",
        {
          class: "settings-form",
          "data-testid": "shop-form",
          onsubmit: async (e: Event) => {
            e.preventDefault();
            const data = new FormData(e.currentTarget as HTMLFormElement);
            const body = {
              languages: String(data.get("languages") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
              notification_phone: String(data.get("notification_phone") ?? "").trim() || null,
              acceptance_window_minutes: Number(data.get("acceptance_window_minutes")),
            };
            for (const slot of errors.values()) slot.textContent = "";
            try {
              tenant = await api<Tenant>("PATCH", "/shop", { body, ifMatch: tenant.version });
              toast(t("common.saved"));
            } catch (error) {
              if (error instanceof ApiError && error.status === 422) {
                for (const p of error.fields) {
                  const slot = errors.get(p.field.replace(/^body\./, ""));
                  if (slot) slot.textContent = p.problem;
                }
              }
              if (error instanceof ApiError && error.status === 412) void load(root);
              toast(t("common.error", { message: (error as Error).message }), "error");
            }
          },
        },
        field("languages", t("settings.languages"), tenant.languages.join(", ")),
        field("notification_phone", t("settings.notification"), tenant.orders?.notification_phone ?? ""),
        field("acceptance_window_minutes", t("settings.window"), String(tenant.orders?.acceptance_window_minutes ?? 5)),
        h("button", { type: "submit", class: "primary" }, t("common.save")),
      )
    : null;
  mount(
    root,
    h("header", { class: "page-head" }, h("h1", {}, t("settings.title"))),
    h("section", {}, h("h2", {}, t("settings.agent")), agentForm),
    h(
      "section",
      {},
      h("h2", {}, t("settings.shop"), ": ", tenant.name),
      shopForm,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("settings.hours")),
        h("dd", {}, h("ul", {}, ...tenant.opening_hours.map((w) => h("li", {}, `${w.day} ${w.opens}–${w.closes}`)))),
        owner ? null : h("dt", {}, t("settings.languages")), owner ? null : h("dd", {}, tenant.languages.join(", ")),
        owner ? null : h("dt", {}, t("settings.notification")), owner ? null : h("dd", {}, tenant.orders?.notification_phone ?? t("common.none")),
        owner ? null : h("dt", {}, t("settings.window")), owner ? null : h("dd", {}, String(tenant.orders?.acceptance_window_minutes ?? t("common.none"))),
        tenant.delivery_zones ? h("dt", {}, t("settings.zones")) : null,
        tenant.delivery_zones ? h("dd", {}, tenant.delivery_zones.map((z) => z.name ?? "").join(", ")) : null,
      ),
      h("p", { class: "muted" }, t("settings.shopReadOnly")),
    ),
  );
}

function stripView(agent: Agent): Record<string, unknown> {
  const { tenant_id: _ignored, ...rest } = agent;
  return rest;
}
