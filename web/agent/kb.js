// Knowledge base and bot administration for leaders and admins: entries (list, edit, delete), import
// and export, the unanswered questions the bot met (the learning loop), and the bot's settings, first
// questions, domain dictionary and today's figures. The server checks roles as well.
import { el, onActivate, tr } from "../common/chat.js";
import { errorText, formatTime, t, translateTree } from "../common/i18n.js";
import { htmlToText, sanitizeHtml } from "../common/richtext.js";

const PAGE_SIZE = 50;
const SEARCH_LIMIT = 8;
const DEBOUNCE_MS = 200;
const DELETE_CONFIRM_MS = 4000;
const MAX_FIRST_QUESTIONS = 8;
const MAX_IMPORT_BYTES = 4 * 1024 * 1024;
const FIELDS = ["question", "similar", "answer", "category", "tags", "enabled"];
const MODES = ["off", "bot_first", "human_first"];
// Used only when /kb/categories cannot be read, so the form still offers the store's usual ones.
const FALLBACK_CATEGORIES = ["尺码", "物流", "退换货", "发票", "活动", "支付", "账户", "商品", "售后", "订单", "其他"];
const TABS = ["entries", "io", "unanswered", "bot"];

const $ = (id) => document.getElementById(id);

function field(key, control, error, attrs = {}) {
  return el("label", { class: "field kb-field", ...attrs }, tr(key), control, error || null);
}

function fieldError(name) {
  return el("p", { class: "form-error kb-field__error", "data-testid": `kb-error-${name}`, role: "alert" });
}

function lines(text) {
  return String(text || "")
    .split(/\r?\n/)
    .map((x) => x.trim())
    .filter(Boolean);
}

function splitTags(text) {
  const seen = new Set();
  for (const tag of String(text || "").split(/[,，、;；\n]+/)) {
    const x = tag.trim();
    if (x) seen.add(x);
  }
  return [...seen];
}

function entryPath(id, suffix = "") {
  return `/kb/entries/${encodeURIComponent(id)}${suffix}`;
}

// Validation errors name a field, maybe with an index ("similar[2]", "similar.2"): map it to our field.
function fieldOf(name) {
  const head = String(name || "").replace(/^body\./, "").split(/[.[]/)[0];
  return FIELDS.includes(head) ? head : null;
}

// The problems an error names, as [{field, message, row?}]. The list may sit at the top of the error
// document or under its details (errors[] from the service, fields[] from request validation).
export function problemsOf(e) {
  const body = e?.body || {};
  const details = body.details && typeof body.details === "object" ? body.details : {};
  const found = [];
  for (const source of [body.errors, details.errors, body.fields, details.fields]) {
    if (Array.isArray(source)) found.push(...source.filter((x) => x && typeof x === "object"));
  }
  const problems = found.map((x) => ({ row: x.row, field: x.field ?? "", message: x.message ?? x.problem ?? x.msg ?? "" }));
  const field = body.field ?? details.field;
  if (field && !problems.length) problems.push({ field, message: body.message || "" });
  return problems;
}

function problemText(e) {
  const messages = problemsOf(e)
    .map((p) => (p.field ? `${p.field}: ${p.message}` : p.message))
    .filter(Boolean);
  return messages.join("；") || e?.message || errorText(e);
}

function isInvalid(e) {
  return e?.status === 422 || e?.status === 400 || ["validation_error", "validation_failed"].includes(e?.code);
}

function base64OfFile(file) {
  return file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  });
}

function download({ filename, content_type: type, content_base64: data }) {
  const binary = atob(data || "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: type || "application/octet-stream" }));
  const a = el("a", { href: url, download: filename || "kb-export", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function percent(value) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? `${Math.round(n * 1000) / 10}%` : "—";
}

export class KbAdmin {
  /** api: the workspace's Api; me(): the signed-in user; toast(text, kind). */
  constructor({ api, me, toast }) {
    Object.assign(this, { api, me, toast });
    this.visible = false;
    this.tab = "entries";
    this.categories = [];
    this.items = [];
    this.cursor = null;
    this.listLoaded = false;
    this.listRequest = 0;
    this.searchItems = null;
    this.searchRequest = 0;
    this.known = new Map(); // entry_id -> full entry, from every list page seen
    this.editing = null; // the entry in the form, or null for a new one
    this.fromQuestion = null; // {question_id, text}: the unanswered question a new entry answers
    this.unanswered = [];
    this.uqCursor = null;
    this.uqLoaded = false;
    this.botLoaded = false;
    this.firstQuestions = [];
    this.timers = {};
    this.build();
  }

  isLead() {
    const roles = this.me().roles || [];
    return roles.includes("leader") || roles.includes("admin");
  }

  // Field problems are shown beside the form; anything else (network, permissions) also as a toast.
  toastUnlessInvalid(e) {
    if (!isInvalid(e) && e?.status !== 401) this.toast(errorText(e), "error");
  }

  debounce(name, fn) {
    clearTimeout(this.timers[name]);
    this.timers[name] = setTimeout(fn, DEBOUNCE_MS);
  }

  // ---- DOM -------------------------------------------------------------------------------------

  build() {
    this.root = $("kb-view");
    this.tabButtons = TABS.map((name) => {
      const b = tr(`kb.tab.${name}`, "button", { type: "button", class: "kb-tabs__btn", role: "tab", "data-tab": name, "data-testid": `kb-tab-${name}` });
      b.addEventListener("click", () => this.showTab(name));
      return b;
    });
    this.sections = {
      entries: this.buildEntries(),
      io: this.buildIo(),
      unanswered: this.buildUnanswered(),
      bot: this.buildBot(),
    };
    this.root.replaceChildren(
      el("nav", { class: "kb-tabs", role: "tablist" }, ...this.tabButtons),
      el("div", { class: "kb-body" }, ...Object.values(this.sections)),
    );
  }

  buildEntries() {
    this.fCategory = el("select", { class: "select select--sm", "data-testid": "kb-filter-category", "data-i18n-aria-label": "kb.category", "aria-label": t("kb.category") });
    this.fSearch = el("input", {
      class: "input input--sm",
      type: "search",
      "data-testid": "kb-list-search",
      "data-i18n-placeholder": "kb.list.search",
      placeholder: t("kb.list.search"),
    });
    this.newBtn = tr("kb.new", "button", { type: "button", class: "btn btn--sm btn--primary", "data-testid": "kb-new" });
    this.refreshBtn = tr("tk.refresh", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "kb-refresh" });
    this.listEl = el("ul", { class: "list kb-entries", "data-testid": "kb-entry-list" });
    this.moreBtn = tr("tk.more", "button", { type: "button", class: "btn btn--sm", "data-testid": "kb-more", hidden: true });
    this.countEl = el("span", { class: "count" });

    this.fCategory.addEventListener("change", () => this.loadEntries());
    this.fSearch.addEventListener("input", () => this.debounce("search", () => this.searchEntries()));
    this.newBtn.addEventListener("click", () => {
      this.fromQuestion = null;
      this.openEntry(null);
    });
    this.refreshBtn.addEventListener("click", () => this.loadEntries());
    this.moreBtn.addEventListener("click", () => this.loadEntries(true));

    // The editor.
    this.errors = Object.fromEntries(FIELDS.map((name) => [name, fieldError(name)]));
    this.formTitle = el("h2", { class: "kb-form__title" });
    this.formMeta = el("p", { class: "kb-form__meta", "data-testid": "kb-form-meta" });
    this.fromNote = el("p", { class: "kb-form__from", "data-testid": "kb-form-from-question", hidden: true });
    this.conflict = el(
      "div",
      { class: "kb-conflict", "data-testid": "kb-conflict", role: "alert", hidden: true },
      tr("kb.conflict"),
      tr("kb.conflict.reload", "button", { type: "button", class: "btn btn--sm", "data-testid": "kb-reload" }),
    );
    this.conflict.querySelector("button").addEventListener("click", () => this.reloadEditing());
    this.question = el("input", { class: "input", maxlength: 200, required: true, "data-testid": "kb-field-question" });
    this.similar = el("textarea", { class: "textarea", rows: 4, "data-testid": "kb-field-similar", "data-i18n-placeholder": "kb.similar.hint", placeholder: t("kb.similar.hint") });
    this.answer = el("textarea", { class: "textarea kb-answer", rows: 7, "data-testid": "kb-field-answer", "data-i18n-placeholder": "kb.answer.hint", placeholder: t("kb.answer.hint") });
    this.preview = el("div", { class: "kb-preview sd-rich", "data-testid": "kb-answer-preview" });
    this.category = el("select", { class: "select", "data-testid": "kb-field-category" });
    this.tags = el("input", { class: "input", maxlength: 300, "data-testid": "kb-field-tags", "data-i18n-placeholder": "kb.tags.hint", placeholder: t("kb.tags.hint") });
    this.enabled = el("input", { type: "checkbox", "data-testid": "kb-field-enabled", checked: true });
    this.formError = el("p", { class: "form-error", "data-testid": "kb-form-error", role: "alert" });
    this.saveBtn = tr("kb.save", "button", { type: "submit", class: "btn btn--primary", "data-testid": "kb-save" });
    this.deleteBtn = tr("kb.delete", "button", { type: "button", class: "btn btn--danger", "data-testid": "kb-delete" });
    this.cancelBtn = tr("kb.cancel", "button", { type: "button", class: "btn", "data-testid": "kb-cancel" });
    this.form = el(
      "form",
      { class: "kb-form", "data-testid": "kb-form", novalidate: true, hidden: true },
      el("header", { class: "kb-form__head" }, this.formTitle, this.formMeta),
      this.fromNote,
      this.conflict,
      field("kb.question", this.question, this.errors.question),
      field("kb.similar", this.similar, this.errors.similar),
      el(
        "div",
        { class: "kb-answer-row" },
        field("kb.answer", this.answer, this.errors.answer),
        el("div", { class: "field kb-field" }, tr("kb.preview"), this.preview),
      ),
      el("div", { class: "kb-form__row" }, field("kb.category", this.category, this.errors.category), field("kb.tags", this.tags, this.errors.tags)),
      el("label", { class: "kb-check" }, this.enabled, tr("kb.enabled"), this.errors.enabled),
      this.formError,
      el("div", { class: "kb-form__actions" }, this.deleteBtn, el("span", { class: "kb-spacer" }), this.cancelBtn, this.saveBtn),
    );
    this.formEmpty = el("div", { class: "empty" }, el("div", { class: "empty__icon", "aria-hidden": "true", text: "📚" }), tr("kb.form.empty", "p"));

    this.answer.addEventListener("input", () => this.renderPreview());
    for (const name of FIELDS) {
      const control = { question: this.question, similar: this.similar, answer: this.answer, category: this.category, tags: this.tags, enabled: this.enabled }[name];
      control.addEventListener("input", () => this.setFieldError(name, ""));
    }
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.save();
    });
    this.cancelBtn.addEventListener("click", () => this.closeEntry());
    this.deleteBtn.addEventListener("click", () => this.remove());

    return el(
      "section",
      { class: "kb-section kb-section--entries", "data-testid": "kb-entries" },
      el(
        "aside",
        { class: "kb-side panel" },
        el("header", { class: "panel__head" }, el("h2", {}, tr("kb.entries"), " ", this.countEl), el("div", { class: "tk-panel__tools" }, this.refreshBtn, this.newBtn)),
        el("div", { class: "kb-filters" }, this.fCategory, this.fSearch),
        this.listEl,
        el("div", { class: "tk-more-wrap" }, this.moreBtn),
      ),
      el("div", { class: "kb-editor" }, this.formEmpty, this.form),
    );
  }

  buildIo() {
    this.importFile = el("input", {
      type: "file",
      class: "input",
      accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "data-testid": "kb-import-file",
    });
    this.importBtn = tr("kb.import", "button", { type: "button", class: "btn btn--primary", "data-testid": "kb-import", disabled: true });
    this.importResult = el("p", { class: "kb-import__result", "data-testid": "kb-import-result", role: "status" });
    this.importErrorsBody = el("tbody");
    this.importErrors = el(
      "table",
      { class: "kb-table", "data-testid": "kb-import-errors", hidden: true },
      el("thead", {}, el("tr", {}, tr("kb.import.row", "th"), tr("kb.import.field", "th"), tr("kb.import.problem", "th"))),
      this.importErrorsBody,
    );
    this.exportCsv = tr("kb.export.csv", "button", { type: "button", class: "btn", "data-testid": "kb-export-csv" });
    this.exportXlsx = tr("kb.export.xlsx", "button", { type: "button", class: "btn", "data-testid": "kb-export-xlsx" });

    this.importFile.addEventListener("change", () => {
      this.importBtn.disabled = !this.importFile.files.length;
      this.showImportResult("", []);
    });
    this.importBtn.addEventListener("click", () => this.importEntries());
    this.exportCsv.addEventListener("click", () => this.exportEntries("csv", this.exportCsv));
    this.exportXlsx.addEventListener("click", () => this.exportEntries("xlsx", this.exportXlsx));

    return el(
      "section",
      { class: "kb-section kb-section--io", "data-testid": "kb-io", hidden: true },
      el(
        "div",
        { class: "kb-card" },
        tr("kb.import.title", "h2"),
        tr("kb.import.hint", "p", { class: "kb-hint" }),
        el("div", { class: "kb-inline" }, this.importFile, this.importBtn),
        this.importResult,
        this.importErrors,
      ),
      el(
        "div",
        { class: "kb-card" },
        tr("kb.export.title", "h2"),
        tr("kb.export.hint", "p", { class: "kb-hint" }),
        el("div", { class: "kb-inline" }, this.exportCsv, this.exportXlsx),
      ),
    );
  }

  buildUnanswered() {
    this.uqList = el("ul", { class: "list kb-uq-list", "data-testid": "unanswered-list" });
    this.uqMore = tr("tk.more", "button", { type: "button", class: "btn btn--sm", "data-testid": "unanswered-more", hidden: true });
    this.uqRefresh = tr("tk.refresh", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "unanswered-refresh" });
    this.uqMore.addEventListener("click", () => this.loadUnanswered(true));
    this.uqRefresh.addEventListener("click", () => this.loadUnanswered());
    return el(
      "section",
      { class: "kb-section kb-section--uq panel", "data-testid": "kb-unanswered", hidden: true },
      el("header", { class: "panel__head" }, tr("kb.uq.title", "h2"), this.uqRefresh),
      tr("kb.uq.hint", "p", { class: "kb-hint kb-hint--pad" }),
      this.uqList,
      el("div", { class: "tk-more-wrap" }, this.uqMore),
    );
  }

  buildBot() {
    // Today's figures.
    this.statsDay = el("span", { class: "kb-stats__day", "data-testid": "bot-stats-day" });
    this.statsGrid = el("div", { class: "kb-stats__grid" });
    this.statsRefresh = tr("tk.refresh", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "bot-stats-refresh" });
    this.statsRefresh.addEventListener("click", () => this.loadStats());
    const stats = el(
      "div",
      { class: "kb-card kb-stats", "data-testid": "bot-stats" },
      el("header", { class: "kb-card__head" }, el("h2", {}, tr("kb.stats.title"), " ", this.statsDay), this.statsRefresh),
      this.statsGrid,
    );

    // Mode, thresholds, greeting.
    this.mode = el("select", { class: "select", "data-testid": "bot-mode" }, ...MODES.map((m) => el("option", { value: m, "data-i18n": `kb.mode.${m}`, text: t(`kb.mode.${m}`) })));
    const threshold = (testId) => el("input", { class: "input", type: "number", min: 0, max: 1, step: 0.01, "data-testid": testId });
    this.answerThreshold = threshold("bot-answer-threshold");
    this.suggestThreshold = threshold("bot-suggest-threshold");
    this.greeting = el("textarea", { class: "textarea", rows: 3, maxlength: 500, "data-testid": "bot-greeting" });
    this.settingsError = el("p", { class: "form-error", "data-testid": "bot-settings-error", role: "alert" });
    this.settingsSave = tr("kb.save", "button", { type: "submit", class: "btn btn--primary", "data-testid": "bot-settings-save" });
    this.settingsForm = el(
      "form",
      { class: "kb-card", "data-testid": "bot-settings", novalidate: true },
      tr("kb.settings.title", "h2"),
      field("kb.mode", this.mode),
      tr("kb.mode.hint", "p", { class: "kb-hint" }),
      el("div", { class: "kb-form__row" }, field("kb.answerThreshold", this.answerThreshold), field("kb.suggestThreshold", this.suggestThreshold)),
      tr("kb.threshold.hint", "p", { class: "kb-hint" }),
      field("kb.greeting", this.greeting),
      this.settingsError,
      el("div", { class: "kb-form__actions" }, el("span", { class: "kb-spacer" }), this.settingsSave),
    );
    this.settingsForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.saveSettings();
    });

    // First questions.
    this.fqList = el("ol", { class: "kb-fq", "data-testid": "fq-list" });
    this.fqAdd = tr("kb.fq.add", "button", { type: "button", class: "btn btn--sm", "data-testid": "fq-add" });
    this.fqSave = tr("kb.save", "button", { type: "button", class: "btn btn--primary", "data-testid": "fq-save" });
    this.fqError = el("p", { class: "form-error", "data-testid": "fq-error", role: "alert" });
    this.entryOptions = el("datalist", { id: "kb-entry-options" });
    this.fqAdd.addEventListener("click", () => {
      this.readFirstQuestions();
      if (this.firstQuestions.length >= MAX_FIRST_QUESTIONS) return;
      this.firstQuestions.push({ text: "", entry_id: "", clicks: 0 });
      this.renderFirstQuestions();
      this.fqList.querySelector("li:last-child [data-testid=fq-text]")?.focus();
    });
    this.fqSave.addEventListener("click", () => this.saveFirstQuestions());
    const firstQuestions = el(
      "div",
      { class: "kb-card", "data-testid": "bot-first-questions" },
      tr("kb.fq.title", "h2"),
      tr("kb.fq.hint", "p", { class: "kb-hint" }),
      this.fqList,
      this.entryOptions,
      this.fqError,
      el("div", { class: "kb-form__actions" }, this.fqAdd, el("span", { class: "kb-spacer" }), this.fqSave),
    );

    // Domain dictionary.
    this.words = el("textarea", { class: "textarea", rows: 8, "data-testid": "dict-words", "data-i18n-placeholder": "kb.dict.wordsHint", placeholder: t("kb.dict.wordsHint") });
    this.synonyms = el("textarea", { class: "textarea", rows: 8, "data-testid": "dict-synonyms", "data-i18n-placeholder": "kb.dict.synonymsHint", placeholder: t("kb.dict.synonymsHint") });
    this.dictError = el("p", { class: "form-error", "data-testid": "dict-error", role: "alert" });
    this.dictSave = tr("kb.save", "button", { type: "button", class: "btn btn--primary", "data-testid": "dict-save" });
    this.dictSave.addEventListener("click", () => this.saveDictionary());
    const dictionary = el(
      "div",
      { class: "kb-card", "data-testid": "bot-dictionary" },
      tr("kb.dict.title", "h2"),
      tr("kb.dict.hint", "p", { class: "kb-hint" }),
      el("div", { class: "kb-form__row" }, field("kb.dict.words", this.words), field("kb.dict.synonyms", this.synonyms)),
      this.dictError,
      el("div", { class: "kb-form__actions" }, el("span", { class: "kb-spacer" }), this.dictSave),
    );

    return el(
      "section",
      { class: "kb-section kb-section--bot", "data-testid": "kb-bot", hidden: true },
      el("div", { class: "kb-col" }, stats, this.settingsForm, dictionary),
      el("div", { class: "kb-col" }, firstQuestions),
    );
  }

  // ---- start, views, language --------------------------------------------------------------------

  start() {
    $("nav-kb").hidden = !this.isLead();
  }

  show(on) {
    this.visible = on && this.isLead();
    this.root.hidden = !this.visible;
    if (!this.visible) return;
    if (!this.categories.length) this.loadCategories();
    this.showTab(this.tab);
  }

  showTab(name) {
    this.tab = name;
    for (const b of this.tabButtons) {
      const on = b.dataset.tab === name;
      b.classList.toggle("is-active", on);
      b.setAttribute("aria-selected", String(on));
    }
    for (const [key, section] of Object.entries(this.sections)) section.hidden = key !== name;
    if (name === "entries" && !this.listLoaded) this.loadEntries();
    if (name === "unanswered" && !this.uqLoaded) this.loadUnanswered();
    if (name === "bot" && !this.botLoaded) this.loadBot();
  }

  relabel() {
    translateTree(this.root);
    this.renderCategories();
    this.renderList();
    this.renderUnanswered();
    this.renderFormHead();
    this.renderStats();
    // Words typed in the first questions survive the re-render.
    if (this.fqList.querySelector("[data-testid=fq-row]")) this.readFirstQuestions();
    this.renderFirstQuestions();
  }

  // ---- categories ------------------------------------------------------------------------------

  async loadCategories() {
    try {
      const data = await this.api.get("/kb/categories");
      this.categories = (data?.items || []).filter((c) => typeof c === "string" && c);
    } catch (e) {
      if (e.status !== 401) this.toast(errorText(e), "error");
    }
    if (!this.categories.length) this.categories = [...FALLBACK_CATEGORIES];
    this.renderCategories();
  }

  renderCategories() {
    const keepFilter = this.fCategory.value;
    this.fCategory.replaceChildren(
      el("option", { value: "", "data-i18n": "kb.allCategories", text: t("kb.allCategories") }),
      ...this.categories.map((c) => el("option", { value: c, text: c })),
    );
    this.fCategory.value = this.categories.includes(keepFilter) ? keepFilter : "";
    const keep = this.category.value || this.editing?.category || "";
    const all = keep && !this.categories.includes(keep) ? [...this.categories, keep] : this.categories;
    this.category.replaceChildren(...all.map((c) => el("option", { value: c, text: c })));
    if (keep) this.category.value = keep;
  }

  // ---- entries list ----------------------------------------------------------------------------

  remember(entries) {
    for (const e of entries) if (e?.entry_id) this.known.set(e.entry_id, e);
    this.renderEntryOptions();
  }

  async loadEntries(more = false) {
    const request = ++this.listRequest;
    this.moreBtn.disabled = true;
    if (!more) this.listEl.setAttribute("aria-busy", "true");
    try {
      const data = await this.api.get("/kb/entries", { category: this.fCategory.value, limit: PAGE_SIZE, cursor: more ? this.cursor : undefined });
      if (request !== this.listRequest) return;
      const page = data?.items || [];
      this.remember(page);
      this.items = more ? [...this.items, ...page.filter((x) => !this.items.some((y) => y.entry_id === x.entry_id))] : page;
      this.cursor = data?.next_cursor || null;
      this.listLoaded = true;
      this.renderList();
    } catch (e) {
      if (request !== this.listRequest) return;
      this.renderList();
      if (e.status !== 401) this.listEl.prepend(el("li", { class: "list__empty list__error", text: errorText(e) }));
    } finally {
      if (request === this.listRequest) {
        this.moreBtn.disabled = false;
        this.listEl.removeAttribute("aria-busy");
      }
    }
  }

  async searchEntries() {
    const q = this.fSearch.value.trim();
    const request = ++this.searchRequest;
    if (!q) {
      this.searchItems = null;
      this.renderList();
      return;
    }
    try {
      const data = await this.api.get("/kb/search", { q, limit: SEARCH_LIMIT });
      if (request !== this.searchRequest) return;
      this.searchItems = data?.items || [];
      this.renderList();
    } catch (e) {
      if (request === this.searchRequest && e.status !== 401) this.toast(errorText(e), "error");
    }
  }

  matchesFilter(entry) {
    return !this.fCategory.value || entry.category === this.fCategory.value;
  }

  renderList() {
    const searching = this.searchItems !== null;
    this.moreBtn.hidden = searching || !this.cursor;
    const rows = searching ? this.searchItems.map((hit) => this.known.get(hit.entry_id) || hit) : this.items;
    this.countEl.textContent = searching ? String(rows.length) : `${this.items.length}${this.cursor ? "+" : ""}`;
    if (!rows.length) {
      const key = searching ? "kb.search.empty" : this.listLoaded ? "kb.list.empty" : "tk.loading";
      this.listEl.replaceChildren(tr(key, "li", { class: "list__empty" }));
      return;
    }
    this.listEl.replaceChildren(...rows.map((entry) => this.row(entry)));
  }

  row(entry) {
    const active = this.form.hidden === false && this.editing?.entry_id === entry.entry_id;
    const disabled = entry.enabled === false;
    const li = el("li", {
      class: `kb-row${active ? " is-active" : ""}${disabled ? " is-disabled" : ""}`,
      "data-testid": "kb-entry-row",
      "data-entry-id": entry.entry_id,
      "data-category": entry.category || "",
      tabindex: 0,
      role: "button",
    });
    const meta = [];
    if (Array.isArray(entry.similar) && entry.similar.length) meta.push(el("span", { text: t("kb.similarCount", { n: entry.similar.length }) }));
    if (entry.updated_at) meta.push(el("time", { datetime: entry.updated_at, text: [entry.updated_by?.name, formatTime(entry.updated_at)].filter(Boolean).join(" · ") }));
    li.append(
      el(
        "div",
        { class: "kb-row__top" },
        el("span", { class: "kb-row__q", "data-testid": "kb-entry-question", text: entry.question || "" }),
        entry.category ? el("span", { class: "tag tag--muted", text: entry.category }) : null,
        disabled ? tr("kb.disabled", "span", { class: "tag tag--warning" }) : null,
      ),
      el("p", { class: "kb-row__a", text: entry.answer_text || htmlToText(entry.answer || "") }),
      meta.length ? el("div", { class: "kb-row__meta" }, ...meta) : null,
    );
    return onActivate(li, () => this.openKnown(entry));
  }

  upsertEntry(entry) {
    this.remember([entry]);
    const i = this.items.findIndex((x) => x.entry_id === entry.entry_id);
    if (i >= 0 && this.matchesFilter(entry)) this.items[i] = entry;
    else if (i >= 0) this.items.splice(i, 1);
    else if (this.matchesFilter(entry)) this.items.unshift(entry);
    this.renderList();
  }

  dropEntry(id) {
    this.known.delete(id);
    this.items = this.items.filter((x) => x.entry_id !== id);
    if (this.searchItems) this.searchItems = this.searchItems.filter((x) => x.entry_id !== id);
    this.renderEntryOptions();
    this.renderList();
  }

  // A search hit carries no version or similar phrasings: read the full entry (null when it is gone).
  async findEntry(id) {
    if (this.known.has(id)) return this.known.get(id);
    try {
      const entry = await this.api.get(entryPath(id));
      if (!entry?.entry_id) return null;
      this.remember([entry]);
      return entry;
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  async openKnown(entry) {
    if (entry.version !== undefined) {
      this.openEntry(entry);
      return;
    }
    try {
      const full = await this.findEntry(entry.entry_id);
      if (full) this.openEntry(full);
      else this.toast(t("kb.notFound"), "error");
    } catch (e) {
      this.toast(errorText(e), "error");
    }
  }

  // ---- the editor ------------------------------------------------------------------------------

  /** entry: a full entry to edit, or null for a new one; prefill: fields for a new one. */
  openEntry(entry, prefill = {}) {
    if (this.tab !== "entries") this.showTab("entries");
    if (entry) this.fromQuestion = null;
    this.editing = entry;
    const e = entry || { question: "", similar: [], answer: "", category: "", tags: [], enabled: true, ...prefill };
    this.question.value = e.question || "";
    this.similar.value = (e.similar || []).join("\n");
    this.answer.value = e.answer || "";
    this.tags.value = (e.tags || []).join(", ");
    this.enabled.checked = e.enabled !== false;
    this.renderCategories();
    this.category.value = e.category && [...this.category.options].some((o) => o.value === e.category) ? e.category : this.categories.includes("其他") ? "其他" : this.categories[0] || "";
    this.clearErrors();
    this.conflict.hidden = true;
    this.resetDelete();
    this.form.hidden = false;
    this.formEmpty.hidden = true;
    this.renderFormHead();
    this.renderPreview();
    this.renderList();
    this.question.focus();
  }

  closeEntry() {
    this.editing = null;
    this.fromQuestion = null;
    this.form.hidden = true;
    this.formEmpty.hidden = false;
    this.renderList();
  }

  renderFormHead() {
    const entry = this.editing;
    this.form.dataset.entryId = entry?.entry_id || "";
    this.form.dataset.version = entry ? String(entry.version ?? "") : "";
    this.formTitle.textContent = entry ? t("kb.form.edit", { id: entry.entry_id }) : t("kb.form.new");
    this.formMeta.textContent = entry
      ? [t("kb.version", { n: entry.version ?? "?" }), entry.updated_by?.name, entry.updated_at ? formatTime(entry.updated_at) : ""].filter(Boolean).join(" · ")
      : "";
    this.deleteBtn.hidden = !entry;
    this.fromNote.hidden = !this.fromQuestion;
    if (this.fromQuestion) this.fromNote.textContent = t("kb.form.fromQuestion", { q: this.fromQuestion.text });
  }

  renderPreview() {
    const html = this.answer.value;
    // Plain text keeps its line breaks; markup is shown as the sanitiser will let it through.
    const looksHtml = /<[a-z!/][\s\S]*>/i.test(html);
    if (looksHtml) this.preview.replaceChildren(sanitizeHtml(html));
    else this.preview.replaceChildren(el("p", { class: "kb-preview__plain", text: html }));
    if (!html.trim()) this.preview.replaceChildren(tr("kb.preview.empty", "span", { class: "kb-preview__empty" }));
  }

  clearErrors() {
    for (const name of FIELDS) this.setFieldError(name, "");
    this.formError.textContent = "";
  }

  setFieldError(name, message) {
    this.errors[name].textContent = message;
    const control = { question: this.question, similar: this.similar, answer: this.answer, category: this.category, tags: this.tags, enabled: this.enabled }[name];
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }

  // Puts a validation error's messages next to their fields; the rest above the buttons.
  showErrors(e) {
    const list = problemsOf(e);
    const loose = [];
    for (const item of list) {
      const name = fieldOf(item?.field);
      if (name) this.setFieldError(name, item.message || t("kb.err.invalid"));
      else if (item?.message) loose.push(item.message);
    }
    if (!list.length || loose.length) this.formError.textContent = loose.join("；") || e.message || errorText(e);
  }

  formBody() {
    return {
      question: this.question.value.trim(),
      similar: lines(this.similar.value),
      answer: this.answer.value.trim(),
      category: this.category.value,
      tags: splitTags(this.tags.value),
      enabled: this.enabled.checked,
    };
  }

  async save() {
    this.clearErrors();
    const body = this.formBody();
    let missing = false;
    for (const name of ["question", "answer", "category"]) {
      if (!body[name]) {
        this.setFieldError(name, t("kb.err.required"));
        missing = true;
      }
    }
    if (missing) return;
    const editing = this.editing;
    this.saveBtn.disabled = true;
    try {
      const saved = editing
        ? await this.api.put(entryPath(editing.entry_id), { ...body, version: editing.version })
        : await this.api.post("/kb/entries", body);
      const entry = saved?.entry_id ? saved : { ...editing, ...body };
      const from = !editing ? this.fromQuestion : null;
      this.upsertEntry(entry);
      this.openEntry(entry);
      this.toast(t(editing ? "kb.saved" : "kb.created"), "success");
      if (from && entry.entry_id) await this.resolveQuestion(from.question_id, { entry_id: entry.entry_id }, "kb.uq.linked");
    } catch (e) {
      if (e.status === 409 || e.code === "version_conflict") {
        this.conflict.hidden = false;
      } else if (isInvalid(e)) {
        this.showErrors(e);
      } else {
        this.formError.textContent = errorText(e);
        if (e.status !== 401) this.toast(errorText(e), "error");
      }
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  // After a conflict: the list is read again and the entry reopened as it is now (typed words are lost).
  async reloadEditing() {
    const id = this.editing?.entry_id;
    if (!id) return;
    this.known.delete(id);
    try {
      const fresh = await this.findEntry(id);
      if (fresh) {
        this.upsertEntry(fresh);
        this.openEntry(fresh);
        this.toast(t("kb.reloaded"));
      } else {
        this.dropEntry(id);
        this.closeEntry();
        this.toast(t("kb.notFound"), "error");
      }
    } catch (e) {
      this.toast(errorText(e), "error");
    }
  }

  resetDelete() {
    clearTimeout(this.timers.delete);
    this.deleteArmed = false;
    this.deleteBtn.dataset.i18n = "kb.delete";
    this.deleteBtn.textContent = t("kb.delete");
    this.deleteBtn.classList.remove("is-armed");
  }

  // Two clicks: the first asks, the second deletes (no modal confirm in the way).
  async remove() {
    const entry = this.editing;
    if (!entry) return;
    if (!this.deleteArmed) {
      this.deleteArmed = true;
      this.deleteBtn.dataset.i18n = "kb.delete.confirm";
      this.deleteBtn.textContent = t("kb.delete.confirm");
      this.deleteBtn.classList.add("is-armed");
      this.timers.delete = setTimeout(() => this.resetDelete(), DELETE_CONFIRM_MS);
      return;
    }
    this.resetDelete();
    this.deleteBtn.disabled = true;
    try {
      await this.api.delete(entryPath(entry.entry_id), { version: entry.version });
      this.dropEntry(entry.entry_id);
      this.closeEntry();
      this.toast(t("kb.deleted"), "success");
    } catch (e) {
      if (e.status === 409 || e.code === "version_conflict") this.conflict.hidden = false;
      else if (e.status === 404) {
        this.dropEntry(entry.entry_id);
        this.closeEntry();
      } else this.toast(errorText(e), "error");
    } finally {
      this.deleteBtn.disabled = false;
    }
  }

  // ---- import / export -------------------------------------------------------------------------

  showImportResult(text, errors, isError = false) {
    this.importResult.textContent = text;
    this.importResult.classList.toggle("is-error", isError);
    this.importErrors.hidden = !errors.length;
    this.importErrorsBody.replaceChildren(
      ...errors.map((x) =>
        el("tr", { "data-testid": "kb-import-error" }, el("td", { text: x.row ?? "" }), el("td", { text: x.field ?? "" }), el("td", { text: x.message ?? "" })),
      ),
    );
  }

  async importEntries() {
    const file = this.importFile.files[0];
    if (!file) return;
    const name = file.name.toLowerCase();
    if (!name.endsWith(".csv") && !name.endsWith(".xlsx")) {
      this.showImportResult(t("kb.import.badType"), [], true);
      return;
    }
    if (file.size > MAX_IMPORT_BYTES) {
      this.showImportResult(t("kb.import.tooLarge", { n: MAX_IMPORT_BYTES / 1024 / 1024 }), [], true);
      return;
    }
    this.importBtn.disabled = true;
    this.showImportResult(t("kb.import.busy"), []);
    try {
      const data = await this.api.post("/kb/import", { filename: file.name, content_base64: await base64OfFile(file) });
      this.showImportResult(t("kb.import.done", { c: data?.created ?? 0, u: data?.updated ?? 0 }), []);
      this.toast(t("kb.import.doneShort"), "success");
      this.known.clear();
      this.listLoaded = false;
      this.loadCategories();
      if (this.tab === "entries") this.loadEntries();
    } catch (e) {
      const errors = problemsOf(e);
      this.showImportResult(e.message || errorText(e), errors, true);
      if (!errors.length && e.status !== 401) this.toast(errorText(e), "error");
    } finally {
      this.importBtn.disabled = !this.importFile.files.length;
    }
  }

  async exportEntries(format, btn) {
    btn.disabled = true;
    try {
      const data = await this.api.get("/kb/export", { format });
      if (!data?.content_base64) throw new Error(t("err.unknown"));
      download(data);
    } catch (e) {
      if (e.status !== 401) this.toast(errorText(e), "error");
    } finally {
      btn.disabled = false;
    }
  }

  // ---- unanswered questions --------------------------------------------------------------------

  async loadUnanswered(more = false) {
    this.uqMore.disabled = true;
    try {
      const data = await this.api.get("/bot/unanswered", { limit: PAGE_SIZE, cursor: more ? this.uqCursor : undefined });
      const page = data?.items || [];
      this.unanswered = more ? [...this.unanswered, ...page.filter((x) => !this.unanswered.some((y) => y.question_id === x.question_id))] : page;
      this.uqCursor = data?.next_cursor || null;
      this.uqLoaded = true;
      this.renderUnanswered();
    } catch (e) {
      this.renderUnanswered();
      if (e.status !== 401) this.uqList.prepend(el("li", { class: "list__empty list__error", text: errorText(e) }));
    } finally {
      this.uqMore.disabled = false;
    }
  }

  renderUnanswered() {
    this.uqMore.hidden = !this.uqCursor;
    if (!this.unanswered.length) {
      this.uqList.replaceChildren(tr(this.uqLoaded ? "kb.uq.empty" : "tk.loading", "li", { class: "list__empty" }));
      return;
    }
    this.uqList.replaceChildren(...this.unanswered.map((q) => this.uqRow(q)));
  }

  uqRow(q) {
    const addBtn = tr("kb.uq.addSimilar", "button", { type: "button", class: "btn btn--sm", "data-testid": "unanswered-add-similar" });
    const newBtn = tr("kb.uq.newEntry", "button", { type: "button", class: "btn btn--sm btn--primary", "data-testid": "unanswered-new-entry" });
    const dismissBtn = tr("kb.uq.dismiss", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "unanswered-dismiss" });
    const picker = el("div", { class: "kb-picker", "data-testid": "unanswered-picker", hidden: true });
    const li = el(
      "li",
      { class: "kb-uq", "data-testid": "unanswered-row", "data-question-id": q.question_id },
      el(
        "div",
        { class: "kb-uq__top" },
        el("span", { class: "kb-uq__text", text: q.text || "" }),
        el("span", { class: "count count--warning", "data-testid": "unanswered-count", title: t("kb.uq.count"), text: `×${q.count ?? 0}` }),
      ),
      el(
        "div",
        { class: "kb-uq__meta" },
        el("span", { text: t("kb.uq.first", { t: formatTime(q.first_at) }) }),
        el("span", { text: t("kb.uq.last", { t: formatTime(q.last_at) }) }),
      ),
      el("div", { class: "kb-uq__actions" }, addBtn, newBtn, dismissBtn),
      picker,
    );
    addBtn.addEventListener("click", () => {
      picker.hidden = !picker.hidden;
      if (!picker.hidden) this.buildPicker(picker, q);
    });
    newBtn.addEventListener("click", () => {
      this.fromQuestion = { question_id: q.question_id, text: q.text };
      this.openEntry(null, { question: q.text });
    });
    dismissBtn.addEventListener("click", async () => {
      dismissBtn.disabled = true;
      await this.resolveQuestion(q.question_id, {}, "kb.uq.dismissed");
      dismissBtn.disabled = false;
    });
    return li;
  }

  // "Add as a similar phrasing": search the entries, pick one.
  buildPicker(picker, q) {
    const input = el("input", { class: "input input--sm", type: "search", value: q.text || "", "data-testid": "unanswered-pick-search", "data-i18n-placeholder": "kb.uq.pickSearch", placeholder: t("kb.uq.pickSearch") });
    const results = el("ul", { class: "kb-picker__list", "data-testid": "unanswered-pick-results" });
    let request = 0;
    const search = async () => {
      const mine = ++request;
      const text = input.value.trim();
      if (!text) {
        results.replaceChildren();
        return;
      }
      try {
        const data = await this.api.get("/kb/search", { q: text, limit: SEARCH_LIMIT });
        if (mine !== request) return;
        const items = data?.items || [];
        if (!items.length) {
          results.replaceChildren(tr("kb.search.empty", "li", { class: "list__empty" }));
          return;
        }
        results.replaceChildren(
          ...items.map((item) => {
            const b = el(
              "button",
              { type: "button", class: "kb-picker__item", "data-testid": "unanswered-pick", "data-entry-id": item.entry_id },
              el("span", { class: "kb-picker__q", text: item.question || "" }),
              item.category ? el("span", { class: "tag tag--muted", text: item.category }) : null,
            );
            b.addEventListener("click", async () => {
              b.disabled = true;
              await this.resolveQuestion(q.question_id, { entry_id: item.entry_id }, "kb.uq.added");
              b.disabled = false;
            });
            return el("li", {}, b);
          }),
        );
      } catch (e) {
        if (mine === request) results.replaceChildren(el("li", { class: "list__empty list__error", text: errorText(e) }));
      }
    };
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    picker.replaceChildren(tr("kb.uq.pickTitle", "p", { class: "kb-hint" }), input, results);
    input.focus();
    search();
  }

  async resolveQuestion(questionId, body, okKey) {
    try {
      const res = await this.api.post(`/bot/unanswered/${encodeURIComponent(questionId)}/resolve`, body);
      this.unanswered = this.unanswered.filter((x) => x.question_id !== questionId);
      this.renderUnanswered();
      if (this.fromQuestion?.question_id === questionId) {
        this.fromQuestion = null;
        this.renderFormHead();
      }
      this.toast(t(okKey), "success");
      // The entry gained a phrasing (and a version): show it as it is now, or read it again when opened.
      if (res?.entry?.entry_id) {
        this.upsertEntry(res.entry);
        if (this.editing?.entry_id === res.entry.entry_id && !this.form.hidden) this.openEntry(res.entry);
      } else if (body.entry_id) this.known.delete(body.entry_id);
      return true;
    } catch (e) {
      if (e.status === 404) {
        this.unanswered = this.unanswered.filter((x) => x.question_id !== questionId);
        this.renderUnanswered();
      }
      if (e.status !== 401) this.toast(errorText(e), "error");
      return false;
    }
  }

  // ---- bot settings, first questions, dictionary, stats ----------------------------------------

  loadBot() {
    this.botLoaded = true;
    this.loadSettings();
    this.loadFirstQuestions();
    this.loadDictionary();
    this.loadStats();
  }

  async loadSettings() {
    try {
      this.fillSettings(await this.api.get("/bot/settings"));
    } catch (e) {
      this.settingsError.textContent = errorText(e);
    }
  }

  fillSettings(s) {
    if (!s || typeof s !== "object") return;
    if (MODES.includes(s.mode)) this.mode.value = s.mode;
    if (s.answer_threshold !== undefined) this.answerThreshold.value = String(s.answer_threshold);
    if (s.suggest_threshold !== undefined) this.suggestThreshold.value = String(s.suggest_threshold);
    if (s.greeting !== undefined) this.greeting.value = s.greeting || "";
  }

  async saveSettings() {
    this.settingsError.textContent = "";
    const answer = Number(this.answerThreshold.value);
    const suggest = Number(this.suggestThreshold.value);
    const bad = [answer, suggest].some((x) => this.answerThreshold.value === "" || this.suggestThreshold.value === "" || !Number.isFinite(x) || x < 0 || x > 1);
    if (bad) {
      this.settingsError.textContent = t("kb.threshold.invalid");
      return;
    }
    const body = { mode: this.mode.value, answer_threshold: answer, suggest_threshold: suggest, greeting: this.greeting.value.trim() };
    this.settingsSave.disabled = true;
    try {
      const saved = await this.api.put("/bot/settings", body);
      this.fillSettings(saved?.mode ? saved : body);
      this.toast(t("kb.settings.saved"), "success");
    } catch (e) {
      this.settingsError.textContent = problemText(e);
      this.toastUnlessInvalid(e);
    } finally {
      this.settingsSave.disabled = false;
    }
  }

  async loadStats() {
    try {
      this.stats = await this.api.get("/bot/stats");
    } catch (e) {
      this.stats = { error: errorText(e) };
    }
    this.renderStats();
  }

  renderStats() {
    const s = this.stats;
    if (!s) {
      this.statsGrid.replaceChildren(tr("tk.loading", "p", { class: "list__empty" }));
      return;
    }
    if (s.error) {
      this.statsGrid.replaceChildren(el("p", { class: "list__empty list__error", text: s.error }));
      return;
    }
    this.statsDay.textContent = s.day || "";
    const tile = (key, name, value) =>
      el("div", { class: "kb-stat", "data-testid": `bot-stat-${name}` }, el("b", { class: "kb-stat__value", text: value }), tr(key, "span", { class: "kb-stat__label" }));
    const num = (x) => (Number.isFinite(Number(x)) ? String(x) : "—");
    this.statsGrid.replaceChildren(
      tile("kb.stats.consults", "consults", num(s.consults)),
      tile("kb.stats.transfers", "transfers", num(s.transfers)),
      tile("kb.stats.transferRate", "transfer-rate", percent(s.transfer_rate)),
      tile("kb.stats.resolved", "resolved", num(s.resolved)),
      tile("kb.stats.firstClicks", "first-question-clicks", num(s.first_question_clicks)),
      tile("kb.stats.unanswered", "unanswered", num(s.unanswered)),
    );
  }

  async loadFirstQuestions() {
    try {
      const data = await this.api.get("/bot/first-questions");
      this.firstQuestions = (data?.items || []).map((q) => ({ id: q.id, text: q.text || "", entry_id: q.entry_id || "", clicks: q.clicks ?? 0 }));
    } catch (e) {
      this.fqError.textContent = errorText(e);
    }
    this.renderFirstQuestions();
  }

  // What is typed in the rows, back into this.firstQuestions (before a re-render or a save).
  readFirstQuestions() {
    const rows = [...this.fqList.querySelectorAll("[data-testid=fq-row]")];
    this.firstQuestions = rows.map((row) => ({
      ...this.firstQuestions[Number(row.dataset.index)],
      text: row.querySelector("[data-testid=fq-text]").value,
      entry_id: row.querySelector("[data-testid=fq-entry]").value.trim(),
    }));
  }

  moveFirstQuestion(from, to) {
    this.readFirstQuestions();
    if (to < 0 || to >= this.firstQuestions.length || from === to) return;
    const [item] = this.firstQuestions.splice(from, 1);
    this.firstQuestions.splice(to, 0, item);
    this.renderFirstQuestions();
    this.fqList.children[to]?.querySelector("[data-testid=fq-text]")?.focus();
  }

  renderFirstQuestions() {
    const items = this.firstQuestions;
    this.fqAdd.disabled = items.length >= MAX_FIRST_QUESTIONS;
    if (!items.length) {
      this.fqList.replaceChildren(tr("kb.fq.empty", "li", { class: "list__empty" }));
      return;
    }
    this.fqList.replaceChildren(
      ...items.map((q, i) => {
        const text = el("input", { class: "input input--sm", maxlength: 50, value: q.text, "data-testid": "fq-text", "data-i18n-placeholder": "kb.fq.text", placeholder: t("kb.fq.text") });
        const entry = el("input", { class: "input input--sm mono", maxlength: 64, value: q.entry_id || "", list: "kb-entry-options", "data-testid": "fq-entry", "data-i18n-placeholder": "kb.fq.entry", placeholder: t("kb.fq.entry") });
        const up = el("button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "fq-up", "aria-label": t("kb.fq.up"), title: t("kb.fq.up"), text: "↑", disabled: i === 0 });
        const down = el("button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "fq-down", "aria-label": t("kb.fq.down"), title: t("kb.fq.down"), text: "↓", disabled: i === items.length - 1 });
        const removeBtn = el("button", { type: "button", class: "btn btn--sm btn--ghost btn--danger", "data-testid": "fq-remove", "aria-label": t("kb.fq.remove"), title: t("kb.fq.remove"), text: "✕" });
        const handle = el("span", { class: "kb-fq__handle", "aria-hidden": "true", title: t("kb.fq.drag"), text: "⋮⋮" });
        const row = el(
          "li",
          { class: "kb-fq__row", "data-testid": "fq-row", "data-index": i, "data-id": q.id || "" },
          handle,
          el("span", { class: "kb-fq__n", text: String(i + 1) }),
          text,
          entry,
          el("span", { class: "kb-fq__clicks", "data-testid": "fq-clicks", text: t("kb.fq.clicks", { n: q.clicks ?? 0 }) }),
          up,
          down,
          removeBtn,
        );
        up.addEventListener("click", () => this.moveFirstQuestion(i, i - 1));
        down.addEventListener("click", () => this.moveFirstQuestion(i, i + 1));
        removeBtn.addEventListener("click", () => {
          this.readFirstQuestions();
          this.firstQuestions.splice(i, 1);
          this.renderFirstQuestions();
        });
        // Drag a row by its handle onto another to move it there; the inputs keep selecting text.
        handle.addEventListener("pointerdown", () => (row.draggable = true));
        row.addEventListener("pointerup", () => (row.draggable = false));
        row.addEventListener("dragstart", (ev) => {
          if (ev.target !== row) return;
          ev.dataTransfer.effectAllowed = "move";
          ev.dataTransfer.setData("text/plain", String(i));
          row.classList.add("is-dragging");
        });
        row.addEventListener("dragend", () => {
          row.classList.remove("is-dragging");
          row.draggable = false;
        });
        row.addEventListener("dragover", (ev) => {
          ev.preventDefault();
          ev.dataTransfer.dropEffect = "move";
        });
        row.addEventListener("drop", (ev) => {
          ev.preventDefault();
          const from = Number(ev.dataTransfer.getData("text/plain"));
          if (Number.isInteger(from)) this.moveFirstQuestion(from, i);
        });
        return row;
      }),
    );
  }

  renderEntryOptions() {
    this.entryOptions.replaceChildren(...[...this.known.values()].slice(0, 500).map((e) => el("option", { value: e.entry_id, label: e.question || "" })));
  }

  async saveFirstQuestions() {
    this.fqError.textContent = "";
    this.readFirstQuestions();
    const items = this.firstQuestions.map((q) => ({ ...q, text: q.text.trim() }));
    if (items.some((q) => !q.text)) {
      this.fqError.textContent = t("kb.fq.needText");
      return;
    }
    if (items.length > MAX_FIRST_QUESTIONS) {
      this.fqError.textContent = t("kb.fq.tooMany", { n: MAX_FIRST_QUESTIONS });
      return;
    }
    const body = {
      items: items.map((q) => {
        const item = { text: q.text };
        if (q.id) item.id = q.id;
        if (q.entry_id) item.entry_id = q.entry_id;
        return item;
      }),
    };
    this.fqSave.disabled = true;
    try {
      const saved = await this.api.put("/bot/first-questions", body);
      if (Array.isArray(saved?.items)) {
        this.firstQuestions = saved.items.map((q) => ({ id: q.id, text: q.text || "", entry_id: q.entry_id || "", clicks: q.clicks ?? 0 }));
      }
      this.renderFirstQuestions();
      this.toast(t("kb.fq.saved"), "success");
    } catch (e) {
      this.fqError.textContent = problemText(e);
      this.toastUnlessInvalid(e);
    } finally {
      this.fqSave.disabled = false;
    }
  }

  async loadDictionary() {
    try {
      this.fillDictionary(await this.api.get("/bot/dictionary"));
    } catch (e) {
      this.dictError.textContent = errorText(e);
    }
  }

  fillDictionary(d) {
    if (!d || typeof d !== "object") return;
    this.words.value = (d.words || []).join("\n");
    this.synonyms.value = Object.entries(d.synonyms || {})
      .map(([spoken, standard]) => `${spoken}=${standard}`)
      .join("\n");
  }

  async saveDictionary() {
    this.dictError.textContent = "";
    const words = [...new Set(lines(this.words.value))];
    const synonyms = {};
    const bad = [];
    lines(this.synonyms.value).forEach((line) => {
      const parts = line.split(/[=＝]/);
      const spoken = (parts[0] || "").trim();
      const standard = parts.slice(1).join("=").trim();
      if (parts.length < 2 || !spoken || !standard) bad.push(line);
      else synonyms[spoken] = standard;
    });
    if (bad.length) {
      this.dictError.textContent = t("kb.dict.badLines", { lines: bad.join("、") });
      return;
    }
    this.dictSave.disabled = true;
    try {
      const saved = await this.api.put("/bot/dictionary", { words, synonyms });
      this.fillDictionary(saved?.words ? saved : { words, synonyms });
      this.toast(t("kb.dict.saved"), "success");
    } catch (e) {
      this.dictError.textContent = problemText(e);
      this.toastUnlessInvalid(e);
    } finally {
      this.dictSave.disabled = false;
    }
  }
}
