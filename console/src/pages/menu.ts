// The menu editor: availability ("acabou" for tonight) saves at once; prices on "Save".
// The whole menu goes back with PUT (fields the console does not know pass through), and
// a 422 puts each problem next to its field (error.details.fields[].field = items.3.price_cents).
import { api, ApiError } from "../api";
import { h, mount, toast } from "../dom";
import { t } from "../i18n";

interface MenuOption { option_id: string; name: string; price_cents: number; available?: boolean; [k: string]: unknown }
interface MenuItem { item_id: string; name: string; category?: string; price_cents: number; available?: boolean; stock?: number | null; options?: MenuOption[]; [k: string]: unknown }
interface Menu { items: MenuItem[]; currency: string; [k: string]: unknown }
interface MenuView { menu: Menu; menu_version: string }

const toReais = (cents: number) => (cents / 100).toFixed(2).replace(".", ",");
function toCents(text: string): number {
  const normal = text.trim().replace(/\./g, "").replace(",", ".");
  return /^-?\d+(\.\d{1,2})?$/.test(normal) ? Math.round(Number(normal) * 100) : Number.NaN;
}

export function menuPage(root: HTMLElement): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void load(root);
}

async function load(root: HTMLElement): Promise<void> {
  let view: MenuView;
  try {
    view = await api<MenuView>("GET", "/menu");
  } catch (error) {
    mount(root, h("p", { class: "error", role: "alert" }, t("common.error", { message: (error as Error).message })));
    return;
  }
  const menu = view.menu;
  const fieldErrors = new Map<string, HTMLElement>();
  const errorSlot = (field: string) => {
    const slot = h("span", { class: "field-error", id: `err-${field}`, "data-field": field, role: "alert" });
    fieldErrors.set(field, slot);
    return slot;
  };
  const save = async (): Promise<boolean> => {
    for (const slot of fieldErrors.values()) slot.textContent = "";
    try {
      const saved = await api<MenuView>("PUT", "/menu", { body: menu });
      view = saved;
      toast(t("common.saved"));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.fields.length) {
        for (const problem of error.fields) {
          const slot = fieldErrors.get(problem.field) ?? fieldErrors.get(problem.field.split(".").slice(0, 2).join("."));
          if (slot) slot.textContent = problem.problem;
        }
        toast(t("menu.invalid"), "error");
        root.querySelector<HTMLElement>(".field-error:not(:empty)")?.scrollIntoView({ block: "center" });
      } else {
        toast(t("common.error", { message: (error as Error).message }), "error");
      }
      return false;
    }
  };
  const priceInput = (id: string, field: string, cents: number, set: (v: number) => void, label: string) => {
    const input = h("input", { id, inputmode: "decimal", value: toReais(cents), "aria-describedby": `err-${field}`, class: "price" }) as HTMLInputElement;
    input.addEventListener("change", () => set(toCents(input.value)));
    return h("span", { class: "field" }, h("label", { for: id, class: "sr-only" }, label), input, errorSlot(field));
  };
  const availability = (id: string, label: string, checked: boolean, set: (v: boolean) => void, testid: string) => {
    const box = h("input", { type: "checkbox", id, role: "switch", "data-testid": testid, checked }) as HTMLInputElement;
    box.addEventListener("change", async () => {
      set(box.checked);
      box.disabled = true;
      if (!(await save())) {
        set(!box.checked);
        box.checked = !box.checked;
      }
      box.disabled = false;
      state.textContent = box.checked ? t("menu.available") : t("menu.soldOut");
    });
    const state = h("span", { class: "switch-state" }, checked ? t("menu.available") : t("menu.soldOut"));
    return h("label", { for: id, class: "switch", title: label }, box, h("span", { class: "sr-only" }, label), state);
  };
  const categories = [...new Set(menu.items.map((i) => i.category || ""))];
  mount(
    root,
    h("header", { class: "page-head" }, h("h1", {}, t("menu.title")),
      h("button", { class: "primary", "data-testid": "save-menu", onclick: () => void save() }, t("menu.saveAll"))),
    ...categories.map((category) =>
      h(
        "section",
        { class: "menu-category" },
        h("h2", {}, category || t("menu.title")),
        ...menu.items.map((item, index) => {
          if ((item.category || "") !== category) return null;
          const base = `items.${index}`;
          return h(
            "article",
            { class: `menu-item${item.available === false ? " sold-out" : ""}`, "data-testid": "menu-item", "data-item-id": item.item_id },
            h("div", { class: "item-head" },
              h("h3", {}, item.name),
              availability(`avail-${item.item_id}`, t("menu.markSoldOut", { name: item.name }), item.available !== false, (v) => (item.available = v), `available-${item.item_id}`)),
            h("div", { class: "item-row" },
              h("span", {}, t("menu.price")),
              priceInput(`price-${item.item_id}`, `${base}.price_cents`, item.price_cents, (v) => (item.price_cents = v), `${t("menu.price")} ${item.name}`),
              item.stock != null ? h("span", { class: "muted" }, `${t("menu.stock")}: ${item.stock}`) : null,
              errorSlot(base)),
            item.options?.length
              ? h("div", { class: "options" },
                  h("h4", {}, t("menu.sizes")),
                  ...item.options.map((option, o) =>
                    h("div", { class: "item-row" },
                      h("span", {}, option.name),
                      priceInput(`price-${item.item_id}-${option.option_id}`, `${base}.options.${o}.price_cents`, option.price_cents, (v) => (option.price_cents = v), `${t("menu.price")} ${item.name} ${option.name}`),
                      availability(`avail-${item.item_id}-${option.option_id}`, t("menu.markSoldOut", { name: `${item.name} ${option.name}` }), option.available !== false, (v) => (option.available = v), `available-${item.item_id}-${option.option_id}`))))
              : null,
            modifiers(item),
          );
        }),
      ),
    ),
  );
}

function modifiers(item: MenuItem): HTMLElement | null {
  // The richer menu model (modifier groups) is shown read-only until its editor lands.
  const groups = (item.modifier_groups ?? item.modifiers) as { name?: string; options?: { name?: string }[] }[] | undefined;
  if (!Array.isArray(groups) || groups.length === 0) return null;
  return h("div", { class: "options" }, h("h4", {}, t("menu.modifiers")),
    ...groups.map((g) => h("p", { class: "muted" }, `${g.name ?? ""}: ${(g.options ?? []).map((o) => o.name).join(", ")}`)));
}
