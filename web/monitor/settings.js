// The alert settings dialog: for the shop and for each group, a switch, the thresholds (a figure is red
// when it is over its threshold; empty = none) and who is told (emails or E.164 phone numbers).
// GET/PUT /monitor/alerts; a 422 names the field, and its message is shown next to that field.
import { el, tr } from "../common/chat.js";
import { errorText, t } from "../common/i18n.js";

export const SHOP_THRESHOLDS = ["avg_response_seconds", "pending_per_agent"];
export const GROUP_THRESHOLDS = ["pending", "pending_per_agent", "bot_transfer_rate"];
export const AGENT_THRESHOLDS = ["pending", "avg_response_seconds"];
export const MAX_RECIPIENTS = 10;
// Rates are ratios on the wire (0.5 = 50%) and percentages in the form.
const PERCENT = new Set(["bot_transfer_rate"]);
const UNITS = { avg_response_seconds: "m.unit.s", pending: "m.unit.people", bot_transfer_rate: "m.unit.percent" };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// "+86 138-0000-0000" is written the E.164 way; emails are kept as typed.
export function normalizeRecipient(text) {
  const s = String(text || "").trim();
  if (/^\+[\d\s-]+$/.test(s)) return s.replace(/[\s-]/g, "");
  return s;
}

export function recipientProblem(lines) {
  if (lines.length > MAX_RECIPIENTS) return t("m.alerts.tooMany", { n: MAX_RECIPIENTS });
  const bad = lines.filter((x) => !EMAIL.test(x) && !E164.test(x));
  return bad.length ? t("m.alerts.badRecipients", { v: bad.join("、") }) : "";
}

function toForm(figure, value) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  if (!Number.isFinite(n)) return "";
  return String(PERCENT.has(figure) ? Number((n * 100).toFixed(4)) : n);
}

function fromForm(figure, text) {
  const n = Number(text);
  return PERCENT.has(figure) ? Number((n / 100).toFixed(6)) : n;
}

// A validation error's field, as the form's path ("groups.presales.recipients.2" → "groups.presales.recipients").
function fieldTokens(name) {
  return String(name || "")
    .replace(/^body\./, "")
    .split(/[.[\]]+/)
    .filter(Boolean);
}

// The problems a 422 names: [{field, message}], from details.field/errors, or the top-level fields/errors.
export function problemsOf(e) {
  const body = e?.body || {};
  const details = isObject(body.details) ? body.details : {};
  const problems = [];
  for (const source of [details.errors, body.errors, details.fields, body.fields]) {
    if (!Array.isArray(source)) continue;
    for (const x of source) {
      if (isObject(x)) problems.push({ field: x.field ?? x.loc ?? details.field ?? "", message: x.message ?? x.problem ?? x.msg ?? "" });
      else if (x !== null && x !== undefined) problems.push({ field: details.field ?? body.field ?? "", message: String(x) });
    }
  }
  const field = details.field ?? body.field;
  if (field && !problems.length) problems.push({ field, message: body.message || "" });
  return problems;
}

export class AlertSettings {
  /** api; groups(): [{group_id, name}] known to the dashboard; toast(text, kind); onSaved(doc). */
  constructor({ api, groups, toast, onSaved }) {
    Object.assign(this, { api, groups, toast, onSaved });
    this.dialog = document.getElementById("alert-settings");
    this.form = document.getElementById("alerts-form");
    this.body = document.getElementById("alerts-body");
    this.error = document.getElementById("alerts-error");
    this.saveBtn = document.getElementById("alerts-save");
    this.doc = null;
    this.fields = new Map(); // path -> {input, error}
    this.request = 0;
    document.getElementById("alerts-cancel").addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.save();
    });
    this.form.addEventListener("input", (ev) => this.clearError(ev.target));
  }

  async open() {
    this.error.textContent = "";
    this.doc = null;
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    const request = ++this.request;
    try {
      const doc = await this.api.get("/monitor/alerts");
      if (request !== this.request) return;
      this.doc = isObject(doc) ? doc : {};
    } catch (e) {
      if (request !== this.request) return;
      this.doc = {};
      this.error.textContent = errorText(e);
    }
    this.render();
  }

  // Every group the dashboard shows, and any other the settings already name (kept as they are).
  groupList() {
    const known = new Map((this.groups() || []).map((g) => [g.group_id, g.name || g.group_id]));
    for (const id of Object.keys(this.doc?.groups || {})) if (!known.has(id)) known.set(id, id);
    return [...known].map(([group_id, name]) => ({ group_id, name }));
  }

  render() {
    this.fields.clear();
    if (!this.doc) {
      this.body.replaceChildren(tr("tk.loading", "p", { class: "list__empty" }));
      this.saveBtn.disabled = true;
      return;
    }
    this.saveBtn.disabled = false;
    const shop = isObject(this.doc.shop) ? this.doc.shop : {};
    const groups = isObject(this.doc.groups) ? this.doc.groups : {};
    this.body.replaceChildren(
      this.level({ prefix: "alerts-shop", path: "shop", title: t("m.alerts.shop"), level: shop, thresholds: SHOP_THRESHOLDS }),
      ...this.groupList().map((g) =>
        this.level({
          prefix: `alerts-group-${g.group_id}`,
          path: `groups.${g.group_id}`,
          title: g.name,
          groupId: g.group_id,
          level: isObject(groups[g.group_id]) ? groups[g.group_id] : {},
          thresholds: GROUP_THRESHOLDS,
          agentThresholds: AGENT_THRESHOLDS,
        }),
      ),
    );
  }

  fieldError(path) {
    return el("p", { class: "form-error mon-set__error", "data-testid": "alerts-field-error", "data-field": path, role: "alert" });
  }

  level({ prefix, path, title, groupId, level, thresholds, agentThresholds }) {
    const enabled = el("input", { type: "checkbox", "data-testid": `${prefix}-enabled`, checked: Boolean(level.enabled) });
    this.fields.set(`${path}.enabled`, { input: enabled, error: null });
    const box = el(
      "fieldset",
      { class: "mon-set", "data-testid": groupId ? "alerts-group" : "alerts-shop", "data-group-id": groupId || null },
      el("legend", { class: "mon-set__title" }, el("span", { text: title }), el("label", { class: "mon-switch" }, enabled, el("span", { text: t(groupId ? "m.alerts.groupEnabled" : "m.alerts.shopEnabled") }))),
      this.thresholdGrid(`${prefix}-threshold`, `${path}.thresholds`, groupId ? t("m.alerts.groupThresholds") : t("m.alerts.thresholds"), thresholds, level.thresholds),
      agentThresholds ? this.thresholdGrid(`${prefix}-agent-threshold`, `${path}.agent_thresholds`, t("m.alerts.agentThresholds"), agentThresholds, level.agent_thresholds) : null,
      this.recipients(`${prefix}-recipients`, `${path}.recipients`, level.recipients),
    );
    const sync = () => box.classList.toggle("is-off", !enabled.checked);
    enabled.addEventListener("change", sync);
    sync();
    return box;
  }

  thresholdGrid(testPrefix, path, heading, figures, values) {
    const current = isObject(values) ? values : {};
    return el(
      "div",
      { class: "mon-set__group" },
      el("h4", { class: "mon-set__sub", text: heading }),
      el(
        "div",
        { class: "mon-set__grid" },
        ...figures.map((figure) => {
          const input = el("input", {
            class: "input input--sm",
            inputmode: "decimal",
            autocomplete: "off",
            "data-testid": `${testPrefix}-${figure}`,
            "data-figure": figure,
            placeholder: t("m.alerts.none"),
            value: toForm(figure, current[figure]),
          });
          const error = this.fieldError(`${path}.${figure}`);
          this.fields.set(`${path}.${figure}`, { input, error, figure });
          return el(
            "label",
            { class: "mon-set__field" },
            el("span", { class: "mon-set__label", text: t(`m.f.${figure}`) }),
            el("span", { class: "mon-set__input" }, el("span", { class: "mon-set__op", text: ">" }), input, UNITS[figure] ? el("span", { class: "mon-set__unit", text: t(UNITS[figure]) }) : null),
            error,
          );
        }),
      ),
    );
  }

  recipients(testId, path, values) {
    const input = el("textarea", {
      class: "textarea mon-set__recipients",
      rows: 3,
      "data-testid": testId,
      placeholder: t("m.alerts.recipientsHint"),
    });
    input.value = (Array.isArray(values) ? values : []).join("\n");
    const error = this.fieldError(path);
    this.fields.set(path, { input, error });
    return el("label", { class: "mon-set__field mon-set__field--wide" }, el("span", { class: "mon-set__label", text: t("m.alerts.recipients", { n: MAX_RECIPIENTS }) }), input, error);
  }

  clearError(input) {
    for (const f of this.fields.values()) {
      if (f.input === input && f.error) {
        f.error.textContent = "";
        input.removeAttribute("aria-invalid");
      }
    }
  }

  showError(path, message) {
    const tokens = fieldTokens(path);
    for (let n = tokens.length; n > 0; n -= 1) {
      const f = this.fields.get(tokens.slice(0, n).join("."));
      if (f?.error) {
        f.error.textContent = message;
        f.input.setAttribute("aria-invalid", "true");
        return f;
      }
    }
    return null;
  }

  // The form as the API's document, or null with each problem shown next to its field.
  read() {
    const problems = [];
    const value = (path) => this.fields.get(path);
    const level = (path, thresholds, agentThresholds) => {
      const out = { enabled: value(`${path}.enabled`).input.checked, thresholds: {} };
      const readThresholds = (sub, figures) => {
        const result = {};
        for (const figure of figures) {
          const text = value(`${sub}.${figure}`).input.value.trim().replace(/%$/, "");
          if (!text) continue; // empty: no threshold
          const n = Number(text);
          if (!Number.isFinite(n) || n < 0) problems.push({ field: `${sub}.${figure}`, message: t("m.alerts.badNumber") });
          else result[figure] = fromForm(figure, text);
        }
        return result;
      };
      out.thresholds = readThresholds(`${path}.thresholds`, thresholds);
      if (agentThresholds) out.agent_thresholds = readThresholds(`${path}.agent_thresholds`, agentThresholds);
      const lines = value(`${path}.recipients`)
        .input.value.split(/[\n,;，；]+/)
        .map(normalizeRecipient)
        .filter(Boolean);
      const unique = [...new Set(lines)];
      const problem = recipientProblem(unique);
      if (problem) problems.push({ field: `${path}.recipients`, message: problem });
      out.recipients = unique;
      return out;
    };
    const doc = { shop: level("shop", SHOP_THRESHOLDS), groups: {} };
    // Groups the form does not show keep what the server has.
    const existing = isObject(this.doc?.groups) ? this.doc.groups : {};
    for (const [id, g] of Object.entries(existing)) doc.groups[id] = g;
    for (const g of this.groupList()) doc.groups[g.group_id] = level(`groups.${g.group_id}`, GROUP_THRESHOLDS, AGENT_THRESHOLDS);
    if (this.doc?.version !== undefined) doc.version = this.doc.version;
    return { doc, problems };
  }

  async save() {
    this.error.textContent = "";
    for (const f of this.fields.values()) {
      if (f.error) f.error.textContent = "";
      f.input.removeAttribute("aria-invalid");
    }
    const { doc, problems } = this.read();
    if (problems.length) {
      for (const p of problems) this.showError(p.field, p.message);
      this.error.textContent = t("m.alerts.fix");
      this.fields.get(problems[0].field)?.input.focus();
      return;
    }
    this.saveBtn.disabled = true;
    try {
      const saved = await this.api.put("/monitor/alerts", doc);
      this.doc = isObject(saved) && (saved.shop || saved.groups) ? saved : doc;
      this.dialog.close();
      this.toast(t("m.alerts.saved"), "success");
      this.onSaved?.(this.doc);
    } catch (e) {
      if (e.status === 422 || e.code === "validation_error") {
        const list = problemsOf(e);
        const placed = [];
        const unplaced = [];
        for (const p of list) {
          const f = this.showError(p.field, p.message || errorText(e));
          if (f) placed.push(f);
          else unplaced.push(p);
        }
        this.error.textContent = unplaced.length
          ? unplaced.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("；")
          : placed.length
            ? t("m.alerts.fix")
            : e.message || errorText(e);
        placed[0]?.input.focus();
      } else {
        this.error.textContent = errorText(e);
      }
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  // Field labels follow the language; what was typed is kept.
  relabel() {
    if (!this.dialog.open || !this.doc) return;
    const { doc } = this.read();
    const version = this.doc.version;
    this.doc = { ...doc, ...(version !== undefined ? { version } : {}) };
    this.render();
  }
}
