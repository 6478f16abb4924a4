// The login form: exchanges a username and password for a bearer token.

import { ApiError, login, resetConfiguration } from "./api.js";
import { h, mount } from "./dom.js";
import { navigate } from "./ui.js";

export async function render(ctx) {
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const username = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h("form", {
    class: "login-form card",
    onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        await login(username.value, password.value);
        resetConfiguration();
        navigate("jobs/pending");
      } catch (e) {
        error.textContent = e instanceof ApiError && e.status === 401 ? "Invalid username or password." : e.message;
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("h1", null, "chancy"),
  h("p", { class: "muted" }, "Sign in to the job queue dashboard."),
  error,
  h("label", null, "Username", username),
  h("label", null, "Password", password),
  submit);
  mount(ctx.main, h("div", { class: "login-page" }, form));
  username.focus();
}
