// The console's shell: config, sign-in gate, navigation, hash routes.
import { setBaseTitle } from "./alerts";
import { currentSession, signOut } from "./auth";
import { loadConfig } from "./config";
import { h, mount } from "./dom";
import { getLang, setLang, t, type Lang } from "./i18n";
import { balancePage } from "./pages/balance";
import { boardPage } from "./pages/board";
import { callPage, callsPage } from "./pages/calls";
import { loginPage } from "./pages/login";
import { menuPage } from "./pages/menu";
import { onboardingPage } from "./pages/onboarding";
import { orderPage } from "./pages/order";
import { settingsPage } from "./pages/settings";
import { startPolling, stopPolling } from "./poller";

const app = document.getElementById("app") as HTMLElement;
let cleanup: (() => void) | void;

const NAV: { hash: string; label: () => string; owner?: boolean }[] = [
  { hash: "#/orders", label: () => t("nav.orders") },
  { hash: "#/calls", label: () => t("nav.calls") },
  { hash: "#/menu", label: () => t("nav.menu") },
  { hash: "#/settings", label: () => t("nav.settings") },
  { hash: "#/balance", label: () => t("nav.balance"), owner: true },
  { hash: "#/onboarding", label: () => t("nav.onboarding"), owner: true },
];

function shell(): HTMLElement {
  const session = currentSession();
  const owner = session?.role === "owner";
  const current = location.hash.split("/").slice(0, 2).join("/");
  const lang = h(
    "select",
    {
      id: "lang",
      "aria-label": t("nav.language"),
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value as Lang);
        route();
      },
    },
    h("option", { value: "pt-BR", selected: getLang() === "pt-BR" }, "Português"),
    h("option", { value: "en", selected: getLang() === "en" }, "English"),
  );
  const main = h("main", { id: "main", tabindex: -1 });
  mount(
    app,
    h(
      "header",
      { class: "topbar" },
      h("strong", { class: "brand" }, "Atende"),
      h(
        "nav",
        { "aria-label": "principal" },
        h(
          "ul",
          {},
          ...NAV.filter((n) => owner || !n.owner).map((n) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: n.hash, "aria-current": current === n.hash ? "page" : null },
                n.label(),
                n.hash === "#/orders" ? h("span", { id: "orders-badge", class: "badge", hidden: true, "aria-label": "novos" }) : null,
              ),
            ),
          ),
        ),
      ),
      h("span", { class: "who muted" }, session?.email ?? ""),
      lang,
      h("button", { class: "link", onclick: () => { signOut(); stopPolling(); location.hash = "#/login"; } }, t("nav.signout")),
    ),
    main,
  );
  return main;
}

function route(): void {
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  const session = currentSession();
  const [, page, id] = location.hash.split("/");
  if (!session) {
    stopPolling();
    setBaseTitle(t("app.title"));
    loginPage(app, () => {
      location.hash = "#/orders";
      route();
    });
    return;
  }
  if (!page || page === "login") {
    location.hash = "#/orders";
    return;
  }
  startPolling();
  setBaseTitle(t("app.title"));
  const main = shell();
  const decoded = id ? decodeURIComponent(id) : undefined;
  switch (page) {
    case "orders":
      cleanup = decoded ? orderPage(main, decoded) : boardPage(main);
      break;
    case "calls":
      if (decoded) callPage(main, decoded);
      else callsPage(main);
      break;
    case "menu":
      menuPage(main);
      break;
    case "settings":
      settingsPage(main);
      break;
    case "balance":
      balancePage(main);
      break;
    case "onboarding":
      onboardingPage(main);
      break;
    default:
      location.hash = "#/orders";
  }
}

async function start(): Promise<void> {
  setLang(getLang());
  try {
    await loadConfig();
  } catch (error) {
    mount(app, h("p", { class: "error", role: "alert" }, String(error)));
    return;
  }
  window.addEventListener("hashchange", route);
  route();
}

void start();
