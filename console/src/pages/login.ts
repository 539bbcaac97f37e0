import { signIn, SignInError } from "../auth";
import { h, mount } from "../dom";
import { t } from "../i18n";

export function loginPage(root: HTMLElement, onSignedIn: () => void): void {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true }) as HTMLInputElement;
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }) as HTMLInputElement;
  const submit = h("button", { type: "submit", class: "primary" }, t("login.submit")) as HTMLButtonElement;
  const form = h(
    "form",
    {
      class: "login",
      "aria-describedby": "login-error",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          await signIn(email.value.trim(), password.value);
          onSignedIn();
        } catch (e) {
          error.textContent =
            e instanceof SignInError && e.code === "Challenge" ? t("login.newPassword") : t("login.failed");
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, t("login.title")),
    h("label", { for: "email" }, t("login.email")),
    email,
    h("label", { for: "password" }, t("login.password")),
    password,
    error,
    submit,
  );
  mount(root, h("main", { id: "main", class: "login-wrap" }, form));
  email.focus();
}
