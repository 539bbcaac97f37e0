import { setNewPassword, signIn, SignInError } from "../auth";
import { h, mount } from "../dom";
import { t } from "../i18n";

export function loginPage(root: HTMLElement, onSignedIn: () => void): void {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true }) as HTMLInputElement;
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }) as HTMLInputElement;
  const submit = h("button", { type: "submit", class: "primary" }, t("login.submit")) as HTMLButtonElement;
  const newPassword = h("input", { id: "new-password", name: "new-password", type: "password", autocomplete: "new-password", minlength: 12 }) as HTMLInputElement;
  const newRow = h("div", { class: "form-row", hidden: true }, h("label", { for: "new-password" }, t("login.newPasswordLabel")), newPassword);
  let challenge: string | undefined;
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
          if (challenge) {
            await setNewPassword(email.value.trim(), challenge, newPassword.value);
          } else {
            await signIn(email.value.trim(), password.value);
          }
          onSignedIn();
        } catch (e) {
          if (e instanceof SignInError && e.code === "Challenge" && e.session) {
            // An invited user's first sign-in: Cognito wants a new password.
            challenge = e.session;
            newRow.hidden = false;
            newPassword.required = true;
            error.textContent = t("login.newPassword");
            newPassword.focus();
          } else {
            error.textContent = challenge ? t("login.newPasswordRefused") : t("login.failed");
            (challenge ? newPassword : password).select();
          }
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
    newRow,
    error,
    submit,
  );
  mount(root, h("main", { id: "main", class: "login-wrap" }, form));
  email.focus();
}
