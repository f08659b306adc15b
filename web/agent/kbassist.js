// The knowledge base beside a chat: a search box and "recommended answers" for the customer's last
// message. "插入" puts an answer's plain text into the open chat's reply box; the agent still sends it.
import { el, tr } from "../common/chat.js";
import { errorText, t, translateTree } from "../common/i18n.js";
import { htmlToText } from "../common/richtext.js";

const SEARCH_DEBOUNCE_MS = 200;
const ASSIST_DEBOUNCE_MS = 300;
const SEARCH_LIMIT = 8;

const $ = (id) => document.getElementById(id);

/** An answer as text for the reply box: the server's plain text, else the HTML's words. */
export function answerText(item) {
  if (typeof item?.answer_text === "string" && item.answer_text.trim()) return item.answer_text.trim();
  return htmlToText(item?.answer || "");
}

function confidenceText(value) {
  const n = Number(value);
  return Number.isFinite(n) ? `${Math.round(Math.max(0, Math.min(1, n)) * 100)}%` : "";
}

export class KbAssist {
  /** activePane(): the open chat's pane ({id, ended, composer}) or null; toast(text, kind). */
  constructor({ api, toast, activePane }) {
    Object.assign(this, { api, toast, activePane });
    this.searchTimer = null;
    this.assistTimer = null;
    this.searchRequest = 0;
    this.assistRequest = 0;
    this.searchItems = null;
    this.assist = { sessionId: null, query: "", items: null, error: null };
    this.root = $("kb-panel");
    this.input = $("kb-search");
    this.results = $("kb-results");
    this.assistList = $("kb-assist-list");
    this.assistQuery = $("kb-assist-query");
    this.input.addEventListener("input", () => this.scheduleSearch());
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        this.input.value = "";
        this.scheduleSearch();
      }
    });
    this.renderSearch();
    this.renderAssist();
  }

  // ---- search --------------------------------------------------------------------------------

  scheduleSearch() {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.search(), SEARCH_DEBOUNCE_MS);
  }

  async search() {
    const q = this.input.value.trim();
    const request = ++this.searchRequest;
    if (!q) {
      this.searchItems = null;
      this.renderSearch();
      return;
    }
    this.results.setAttribute("aria-busy", "true");
    try {
      const data = await this.api.get("/kb/search", { q, limit: SEARCH_LIMIT });
      if (request !== this.searchRequest) return;
      this.searchItems = data?.items || [];
      this.renderSearch();
    } catch (e) {
      if (request !== this.searchRequest) return;
      if (e.status !== 401) this.results.replaceChildren(el("li", { class: "list__empty list__error", text: errorText(e) }));
    } finally {
      if (request === this.searchRequest) this.results.removeAttribute("aria-busy");
    }
  }

  renderSearch() {
    this.results.hidden = this.searchItems === null;
    if (this.searchItems === null) {
      this.results.replaceChildren();
      return;
    }
    if (!this.searchItems.length) this.results.replaceChildren(tr("kb.search.empty", "li", { class: "list__empty" }));
    else this.results.replaceChildren(...this.searchItems.map((item) => this.item(item, "kb-result")));
  }

  // ---- agent assist ----------------------------------------------------------------------------

  /** After switching chats, opening one, or a new customer message in the open chat. */
  scheduleAssist() {
    clearTimeout(this.assistTimer);
    this.assistTimer = setTimeout(() => this.loadAssist(), ASSIST_DEBOUNCE_MS);
  }

  async loadAssist() {
    const pane = this.activePane();
    const request = ++this.assistRequest;
    if (!pane) {
      this.assist = { sessionId: null, query: "", items: null, error: null };
      this.renderAssist();
      return;
    }
    const sessionId = pane.id;
    if (this.assist.sessionId !== sessionId) {
      this.assist = { sessionId, query: "", items: null, error: null };
      this.renderAssist();
    }
    try {
      const data = await this.api.get(`/kb/assist/${encodeURIComponent(sessionId)}`);
      if (request !== this.assistRequest) return;
      this.assist = { sessionId, query: data?.query || "", items: data?.items || [], error: null };
    } catch (e) {
      if (request !== this.assistRequest || e.status === 401) return;
      this.assist = { sessionId, query: "", items: [], error: errorText(e) };
    }
    this.renderAssist();
  }

  renderAssist() {
    const { sessionId, query, items, error } = this.assist;
    this.assistQuery.hidden = !query;
    this.assistQuery.textContent = query ? t("kb.assist.for", { q: query }) : "";
    if (!sessionId) {
      this.assistList.replaceChildren(tr("kb.assist.noChat", "li", { class: "list__empty" }));
    } else if (error) {
      this.assistList.replaceChildren(el("li", { class: "list__empty list__error", text: error }));
    } else if (items === null) {
      this.assistList.replaceChildren(tr("tk.loading", "li", { class: "list__empty" }));
    } else if (!items.length) {
      this.assistList.replaceChildren(tr("kb.assist.empty", "li", { class: "list__empty" }));
    } else {
      this.assistList.replaceChildren(...items.map((item) => this.item(item, "kb-assist-item")));
    }
  }

  // ---- shared ----------------------------------------------------------------------------------

  item(item, testId) {
    const text = answerText(item);
    const insert = tr("kb.insert", "button", { type: "button", class: "btn btn--sm btn--primary kb-item__insert", "data-testid": "kb-insert" });
    insert.addEventListener("click", () => this.insert(text));
    const confidence = confidenceText(item.confidence);
    return el(
      "li",
      { class: "kb-item", "data-testid": testId, "data-entry-id": item.entry_id || "" },
      el(
        "div",
        { class: "kb-item__top" },
        el("span", { class: "kb-item__q", text: item.question || "" }),
        item.category ? el("span", { class: "tag tag--muted", text: item.category }) : null,
      ),
      el("p", { class: "kb-item__a", title: text, text }),
      el(
        "div",
        { class: "kb-item__foot" },
        confidence ? el("span", { class: "kb-item__score", title: t("kb.confidence"), text: confidence }) : el("span"),
        insert,
      ),
    );
  }

  insert(text) {
    const pane = this.activePane();
    if (!pane || pane.ended) {
      this.toast(t("a.openPaneFirst"));
      return;
    }
    const input = pane.composer.input;
    // Words already typed stay; the answer goes on a line of its own after them.
    const before = input.value.slice(0, input.selectionStart);
    pane.composer.insert(before && !before.endsWith("\n") ? `\n${text}` : text);
  }

  relabel() {
    translateTree(this.root);
    this.renderSearch();
    this.renderAssist();
  }
}
