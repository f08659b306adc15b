// The staff sign-in shared by the agent workspace and the supervisor view: one session for both.
import { errorText, t } from "./i18n.js";

export const AUTH_KEY = "shopdesk.agent.auth";
export const NOTICE_KEY = "shopdesk.agent.notice";

const $ = (id) => document.getElementById(id);

// The signed-in session of this tab, while its token is valid.
export function loadAuth() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(AUTH_KEY));
    return stored?.token && stored.expires_at > Date.now() ? stored : null;
  } catch {
    return null;
  }
}

// Shows a notice left by a sign-out (e.g. an expired session) under the form, once.
export function showLoginNotice() {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  if (notice) {
    sessionStorage.removeItem(NOTICE_KEY);
    $("login-error").textContent = t(notice);
  }
  $("login-username").focus();
}

// Wires the login form: on success the session is stored and `onSignedIn(auth)` runs.
export function bindLoginForm(api, onSignedIn) {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    const error = $("login-error");
    if (!username || !password) {
      error.textContent = t("a.login.failed");
      return;
    }
    const submit = $("login-submit");
    submit.disabled = true;
    submit.textContent = t("a.login.busy");
    try {
      const data = await api.post("/auth/login", { username, password }, { auth: false });
      const auth = { token: data.id_token, expires_at: Date.now() + (data.expires_in || 3600) * 1000, user: data.user || {} };
      sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth));
      error.textContent = "";
      onSignedIn(auth);
    } catch (e) {
      error.textContent = e.status === 401 ? t("a.login.failed") : errorText(e);
    } finally {
      submit.disabled = false;
      submit.textContent = t("a.login.submit");
    }
  });
}
