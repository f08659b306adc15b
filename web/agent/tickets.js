// Agent workspace tickets: the list with filters and SLA countdowns, the ticket detail, "create ticket"
// from a chat, the leaders' needs-attention view, and live updates from the workspace's WebSocket.
import { sessionPath } from "../common/api.js";
import { botExtras } from "../common/bot.js";
import { Conversation, el, onActivate, roleOf, tr } from "../common/chat.js";
import { errorText, formatTime, t, translateTree } from "../common/i18n.js";
import {
  MAX_DESCRIPTION,
  PRIORITIES,
  SLA_FILTERS,
  STATUSES,
  TYPES,
  eventItem,
  formatDue,
  label,
  mergeEvents,
  priorityTag,
  shortTicketId,
  slaBadge,
  slaState,
  statusTag,
  tickSla,
  ticketPath,
  typeTag,
} from "../common/tickets.js";

const PAGE_SIZE = 20;
const ATTENTION_REFRESH_MS = 60000;
const FILTER_DEBOUNCE_MS = 200;
// A frame about something this agent did a moment ago needs no toast of its own.
const OWN_ACTION_MS = 5000;

const $ = (id) => document.getElementById(id);

function option(value, key, text) {
  return el("option", { value, "data-i18n": key || null, text: key ? t(key) : text });
}

function select(testId, options, attrs = {}) {
  return el("select", { class: "select select--sm", "data-testid": testId, ...attrs }, ...options);
}

function field(key, control, attrs = {}) {
  return el("label", { class: "tk-field", ...attrs }, tr(key), control);
}

// A date input's day as an ISO instant at the start (or end) of that day, local time.
function dayBound(value, end) {
  if (!value) return undefined;
  const d = new Date(`${value}T${end ? "23:59:59" : "00:00:00"}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isConflict(e) {
  return e?.status === 409;
}

export class TicketDesk {
  /**
   * api: the workspace's Api; me(): the signed-in user; toast(text, kind); groups: Map group_id -> name;
   * onView(view): told of every view switch, for views other modules draw (the knowledge base).
   */
  constructor({ api, me, toast, groups, onView }) {
    Object.assign(this, { api, me, toast, groups, onView });
    this.view = "chats";
    this.items = [];
    this.cursor = null;
    this.listLoaded = false;
    this.listRequest = 0;
    this.agents = [];
    this.detail = null;
    this.attention = { breached: [], at_risk: [] };
    this.attentionTimer = null;
    this.filterTimer = null;
    this.ownActions = new Map();
    this.build();
  }

  // ---- roles ---------------------------------------------------------------------------------

  roles() {
    return this.me().roles || [];
  }

  isLead() {
    return this.roles().includes("leader") || this.roles().includes("admin");
  }

  groupName(id) {
    return this.groups.get(id) || id || "";
  }

  markOwn(ticketId) {
    this.ownActions.set(ticketId, Date.now());
  }

  isOwnRecent(ticketId) {
    return Date.now() - (this.ownActions.get(ticketId) || 0) < OWN_ACTION_MS;
  }

  // ---- DOM -----------------------------------------------------------------------------------

  build() {
    this.root = $("tickets-view");
    this.nav = $("views");

    this.fStatus = select("ticket-filter-status", [option("", "tk.f.all"), ...STATUSES.map((s) => option(s, `tk.status.${s}`))]);
    this.fPriority = select("ticket-filter-priority", [option("", "tk.f.all"), ...PRIORITIES.map((p) => option(p, `tk.priority.${p}`))]);
    this.fSla = select("ticket-filter-sla", [option("", "tk.f.all"), ...SLA_FILTERS.map((s) => option(s, `tk.sla.${s}`))]);
    this.fType = select("ticket-filter-type", [option("", "tk.f.all"), ...TYPES.map((x) => option(x, `tk.type.${x}`))]);
    this.fGroup = select("ticket-filter-group", [option("", "tk.f.all")]);
    this.fAssignee = select("ticket-filter-assignee", [option("", "tk.f.all"), option("me", "tk.f.me"), option("none", "tk.f.pool")]);
    this.fFrom = el("input", { class: "input input--sm", type: "date", "data-testid": "ticket-filter-from" });
    this.fTo = el("input", { class: "input input--sm", type: "date", "data-testid": "ticket-filter-to" });
    // Archived tickets are listed by the month they were archived in (the live lists stay small).
    this.fArchived = el("input", { class: "input input--sm", type: "month", "data-testid": "ticket-filter-archived" });
    this.fReset = tr("tk.f.reset", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "ticket-filter-reset" });
    this.filtersForm = el(
      "form",
      { class: "tk-filters", "data-testid": "ticket-filters", novalidate: true },
      field("tk.f.status", this.fStatus),
      field("tk.f.priority", this.fPriority),
      field("tk.f.sla", this.fSla),
      field("tk.f.type", this.fType),
      field("tk.f.group", this.fGroup),
      field("tk.f.assignee", this.fAssignee),
      field("tk.f.from", this.fFrom),
      field("tk.f.to", this.fTo),
      field("tk.f.archived", this.fArchived),
      this.fReset,
    );
    this.listEl = el("ul", { class: "list tk-list", "data-testid": "ticket-list" });
    this.moreBtn = tr("tk.more", "button", { type: "button", class: "btn btn--sm tk-more", "data-testid": "tickets-more", hidden: true });
    this.refreshBtn = tr("tk.refresh", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "tickets-refresh" });
    this.newBtn = tr("tk.new", "button", { type: "button", class: "btn btn--sm btn--primary", "data-testid": "ticket-new" });
    this.listPanel = el(
      "section",
      { class: "panel tk-panel", "data-testid": "tickets-panel" },
      el("header", { class: "panel__head" }, tr("tk.list", "h2"), el("div", { class: "tk-panel__tools" }, this.refreshBtn, this.newBtn)),
      this.filtersForm,
      this.listEl,
      el("div", { class: "tk-more-wrap" }, this.moreBtn),
    );

    this.attBreached = el("ul", { class: "list tk-list", "data-testid": "attention-breached" });
    this.attAtRisk = el("ul", { class: "list tk-list", "data-testid": "attention-at-risk" });
    this.attRefresh = tr("tk.refresh", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "attention-refresh" });
    this.attCountBreached = el("span", { class: "count count--danger" });
    this.attCountAtRisk = el("span", { class: "count count--warning" });
    this.attentionPanel = el(
      "section",
      { class: "panel tk-panel", "data-testid": "attention-panel", hidden: true },
      el("header", { class: "panel__head" }, tr("tk.att.title", "h2"), this.attRefresh),
      el("div", { class: "tk-att" }, el("h3", { class: "tk-att__title tk-att__title--breached" }, tr("tk.att.breached"), this.attCountBreached), this.attBreached),
      el("div", { class: "tk-att" }, el("h3", { class: "tk-att__title tk-att__title--at-risk" }, tr("tk.att.atRisk"), this.attCountAtRisk), this.attAtRisk),
    );

    this.detailEmpty = el("div", { class: "empty" }, el("div", { class: "empty__icon", "aria-hidden": "true", text: "🎫" }), tr("tk.d.empty", "p"));
    this.detailHost = el("section", { class: "tk-detail-host", "data-testid": "ticket-detail-panel" }, this.detailEmpty);
    this.root.replaceChildren(el("aside", { class: "tk-side" }, this.listPanel, this.attentionPanel), this.detailHost);

    this.createDialog = new CreateDialog(this);
    document.body.append(this.createDialog.el);

    for (const control of [this.fStatus, this.fPriority, this.fSla, this.fType, this.fGroup, this.fAssignee, this.fFrom, this.fTo, this.fArchived]) {
      control.addEventListener("change", () => this.scheduleList());
    }
    this.filtersForm.addEventListener("submit", (ev) => ev.preventDefault());
    this.fReset.addEventListener("click", () => {
      this.filtersForm.reset();
      this.scheduleList();
    });
    this.moreBtn.addEventListener("click", () => this.loadList(true));
    this.refreshBtn.addEventListener("click", () => this.loadList());
    this.newBtn.addEventListener("click", () => this.openCreate());
    this.attRefresh.addEventListener("click", () => this.refreshAttention());
    for (const btn of this.nav.querySelectorAll("[data-view]")) btn.addEventListener("click", () => this.show(btn.dataset.view));
  }

  // ---- start, views, language ----------------------------------------------------------------

  start() {
    this.nav.hidden = false;
    $("nav-attention").hidden = !this.isLead();
    this.renderNav();
    this.loadLookups();
    setInterval(() => {
      if (this.view === "tickets" || this.view === "attention") tickSla(this.root);
    }, 1000);
  }

  async loadLookups() {
    try {
      const [groupsData, agents] = await Promise.all([this.api.get("/groups"), this.api.getAll("/agents", {}, 10)]);
      for (const g of groupsData?.items || []) this.groups.set(g.group_id, g.name);
      this.agents = agents;
    } catch {
      // Ids are shown instead of names, and the agent pickers stay short.
    }
    this.renderLookups();
  }

  renderLookups() {
    const keep = (sel, build) => {
      const value = sel.value;
      build();
      if ([...sel.options].some((o) => o.value === value)) sel.value = value;
    };
    keep(this.fGroup, () =>
      this.fGroup.replaceChildren(option("", "tk.f.all"), ...[...this.groups].map(([id, name]) => option(id, null, name || id))),
    );
    keep(this.fAssignee, () =>
      this.fAssignee.replaceChildren(
        option("", "tk.f.all"),
        option("me", "tk.f.me"),
        option("none", "tk.f.pool"),
        ...this.agents.filter((a) => a.agent_id !== this.me().id && a.role !== "admin").map((a) => option(a.agent_id, null, a.name || a.username)),
      ),
    );
    this.detail?.renderActions();
    this.createDialog.renderGroups();
  }

  show(view) {
    if ((view === "attention" || view === "kb") && !this.isLead()) view = "tickets";
    this.view = view;
    $("workspace").hidden = view !== "chats";
    this.root.hidden = view !== "tickets" && view !== "attention";
    this.listPanel.hidden = view !== "tickets";
    this.attentionPanel.hidden = view !== "attention";
    this.renderNav();
    clearInterval(this.attentionTimer);
    if (view === "tickets" && !this.listLoaded) this.loadList();
    if (view === "attention") {
      this.refreshAttention();
      this.attentionTimer = setInterval(() => this.refreshAttention(), ATTENTION_REFRESH_MS);
    }
    if (view === "tickets" || view === "attention") tickSla(this.root);
    this.onView?.(view);
  }

  renderNav() {
    for (const btn of this.nav.querySelectorAll("[data-view]")) {
      const on = btn.dataset.view === this.view;
      btn.classList.toggle("is-active", on);
      btn.setAttribute("aria-selected", String(on));
    }
  }

  relabel() {
    translateTree(this.root);
    translateTree(this.createDialog.el);
    this.renderList();
    this.renderAttention();
    this.detail?.render();
    tickSla(this.root);
  }

  // Frames sent while the socket was down are lost: rebuild what is on screen from REST.
  refresh() {
    if (this.listLoaded) this.loadList();
    if (this.view === "attention") this.refreshAttention();
    this.detail?.reload();
  }

  // ---- list ----------------------------------------------------------------------------------

  filters() {
    return {
      status: this.fStatus.value,
      priority: this.fPriority.value,
      sla: this.fSla.value,
      type: this.fType.value,
      group_id: this.fGroup.value,
      assignee: this.fAssignee.value,
      created_from: dayBound(this.fFrom.value, false),
      created_to: dayBound(this.fTo.value, true),
      archived_month: this.fArchived.value || undefined,
    };
  }

  scheduleList() {
    clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => this.loadList(), FILTER_DEBOUNCE_MS);
  }

  async loadList(more = false) {
    const request = ++this.listRequest;
    const query = { ...this.filters(), limit: PAGE_SIZE, cursor: more ? this.cursor : undefined };
    this.moreBtn.disabled = true;
    if (!more) this.listEl.setAttribute("aria-busy", "true");
    try {
      const data = await this.api.get("/tickets", query);
      if (request !== this.listRequest) return;
      const items = data?.items || [];
      this.items = more ? [...this.items, ...items.filter((x) => !this.items.some((y) => y.ticket_id === x.ticket_id))] : items;
      this.cursor = data?.next_cursor || null;
      this.listLoaded = true;
      this.renderList();
    } catch (e) {
      if (request !== this.listRequest) return;
      this.renderList();
      if (e.status !== 401) this.listEl.prepend(el("li", { class: "list__empty list__error", "data-testid": "ticket-list-error", text: errorText(e) }));
    } finally {
      if (request === this.listRequest) {
        this.moreBtn.disabled = false;
        this.listEl.removeAttribute("aria-busy");
      }
    }
  }

  renderList() {
    this.moreBtn.hidden = !this.cursor;
    if (!this.items.length) {
      this.listEl.replaceChildren(tr(this.listLoaded ? "tk.empty" : "tk.loading", "li", { class: "list__empty" }));
      return;
    }
    this.listEl.replaceChildren(...this.items.map((tk) => this.row(tk)));
  }

  row(tk) {
    const active = this.detail?.id === tk.ticket_id;
    const li = el("li", {
      class: `tk-row tk-row--${tk.priority}${active ? " is-active" : ""}`,
      "data-testid": "ticket-row",
      "data-ticket-id": tk.ticket_id,
      "data-status": tk.status,
      "data-priority": tk.priority,
      "data-sla-state": slaState(tk.sla),
      tabindex: 0,
      role: "button",
    });
    li.append(
      el(
        "div",
        { class: "tk-row__top" },
        el("span", { class: "tk-row__id", text: `#${shortTicketId(tk.ticket_id)}` }),
        typeTag(tk.type),
        priorityTag(tk.priority),
        statusTag(tk.status),
        el("span", { class: "tk-row__spacer" }),
        slaBadge(tk.sla),
      ),
      el("p", { class: "tk-row__desc", text: tk.description || "" }),
      el(
        "div",
        { class: "tk-row__meta" },
        el("span", { text: tk.group_name || this.groupName(tk.group_id) || t("tk.noGroup") }),
        el("span", { "data-testid": "ticket-row-assignee", text: tk.assignee_name || (tk.assignee_id ? tk.assignee_id : t("tk.unassigned")) }),
        el("time", { datetime: tk.created_at, text: formatTime(tk.created_at) }),
      ),
    );
    return onActivate(li, () => this.openTicket(tk.ticket_id, tk));
  }

  // Does a ticket belong in the list under the current filters? (for live frames)
  matches(tk) {
    const f = this.filters();
    if (f.status && tk.status !== f.status) return false;
    if (f.priority && tk.priority !== f.priority) return false;
    if (f.type && tk.type !== f.type) return false;
    if (f.group_id && tk.group_id !== f.group_id) return false;
    if (f.sla && slaState(tk.sla) !== f.sla) return false;
    if (f.assignee === "me" && tk.assignee_id !== this.me().id) return false;
    if (f.assignee === "none" && tk.assignee_id) return false;
    if (f.assignee && !["me", "none"].includes(f.assignee) && tk.assignee_id !== f.assignee) return false;
    if (f.created_from && tk.created_at < f.created_from) return false;
    if (f.created_to && tk.created_at > f.created_to) return false;
    if (Boolean(f.archived_month) !== Boolean(tk.archived_at)) return false;
    return true;
  }

  upsert(tk) {
    if (!tk?.ticket_id) return;
    const index = this.items.findIndex((x) => x.ticket_id === tk.ticket_id);
    if (this.listLoaded) {
      // In place when it still matches the filters; out when it no longer does (e.g. pulled from the pool).
      if (index >= 0 && this.matches(tk)) this.items[index] = { ...this.items[index], ...tk };
      else if (index >= 0) this.items.splice(index, 1);
      else if (this.matches(tk)) this.items.unshift(tk);
      this.renderList();
    }
    for (const key of ["breached", "at_risk"]) {
      const i = this.attention[key].findIndex((x) => x.ticket_id === tk.ticket_id);
      if (i >= 0) this.attention[key][i] = { ...this.attention[key][i], ...tk };
    }
    this.renderAttention();
  }

  highlight() {
    for (const row of this.root.querySelectorAll("[data-testid=ticket-row]")) {
      row.classList.toggle("is-active", row.dataset.ticketId === this.detail?.id);
    }
  }

  // ---- needs attention (leaders, admins) -----------------------------------------------------

  async refreshAttention() {
    if (!this.isLead()) return;
    const groupIds = this.roles().includes("admin") ? [undefined] : this.me().group_ids || [];
    try {
      const fetchState = async (sla) => {
        const pages = await Promise.all(groupIds.map((g) => this.api.getAll("/tickets", { sla, group_id: g, limit: 50 }, 5)));
        const byId = new Map();
        for (const tk of pages.flat()) byId.set(tk.ticket_id, tk);
        const due = (tk) => Date.parse(tk.sla?.next_due_at || "") || Infinity;
        return [...byId.values()].sort((a, b) => due(a) - due(b));
      };
      const [breached, atRisk] = await Promise.all([fetchState("breached"), fetchState("at_risk")]);
      this.attention = { breached, at_risk: atRisk };
      this.renderAttention();
    } catch (e) {
      if (e.status !== 401) this.toast(errorText(e), "error");
    }
  }

  renderAttention() {
    const fill = (list, items, count) => {
      count.textContent = String(items.length);
      if (!items.length) list.replaceChildren(tr("tk.att.empty", "li", { class: "list__empty" }));
      else list.replaceChildren(...items.map((tk) => this.row(tk)));
    };
    fill(this.attBreached, this.attention.breached, this.attCountBreached);
    fill(this.attAtRisk, this.attention.at_risk, this.attCountAtRisk);
  }

  // ---- detail --------------------------------------------------------------------------------

  async openTicket(ticketId, known) {
    if (this.view !== "tickets" && this.view !== "attention") this.show("tickets");
    if (this.detail?.id !== ticketId) {
      this.detail?.dispose();
      this.detail = new TicketDetail(this, ticketId, known);
      this.detailHost.replaceChildren(this.detail.el);
    }
    this.highlight();
    await this.detail.reload();
  }

  closeDetail() {
    this.detail?.dispose();
    this.detail = null;
    this.detailHost.replaceChildren(this.detailEmpty);
    this.highlight();
  }

  // ---- create --------------------------------------------------------------------------------

  /** session: the chat's session view (session_id, group_id, ...) or nothing for a ticket without a chat. */
  openCreate(session) {
    this.createDialog.open(session);
  }

  async created(tk) {
    this.markOwn(tk.ticket_id);
    this.toast(t("tk.c.created"), "success");
    this.show("tickets");
    this.upsert(tk);
    await this.openTicket(tk.ticket_id, tk);
  }

  // ---- live updates --------------------------------------------------------------------------

  handleFrame(frame) {
    const tk = frame.ticket;
    if (!tk?.ticket_id) return;
    this.upsert(tk);
    if (this.detail?.id === tk.ticket_id) this.detail.live(tk, frame.event);
    const id = shortTicketId(tk.ticket_id);
    if (frame.event === "assigned" && !this.isOwnRecent(tk.ticket_id)) {
      if (tk.assignee_id && tk.assignee_id === this.me().id) this.toast(t("tk.toast.assignedMe", { id }), "info");
      else if (tk.assignee_name) this.toast(t("tk.toast.assigned", { id, name: tk.assignee_name }), "info");
    }
    if (frame.event === "escalated") {
      this.toast(t("tk.toast.escalated", { id, level: tk.sla?.escalation_level ?? "?" }), "error");
      if (this.view === "attention") this.refreshAttention();
    }
  }
}

// ---- one ticket's detail ---------------------------------------------------------------------

class TicketDetail {
  constructor(desk, ticketId, known) {
    this.desk = desk;
    this.api = desk.api;
    this.id = ticketId;
    this.ticket = known || null;
    this.events = [];
    this.request = 0;
    this.transcript = null;

    this.title = el("h2", { class: "tk-detail__title", "data-testid": "ticket-title" });
    this.headTags = el("div", { class: "tk-detail__tags" });
    this.closeBtn = tr("a.closePane", "button", { type: "button", class: "btn btn--sm btn--ghost", "data-testid": "ticket-close" });
    this.error = el("p", { class: "form-error tk-error", "data-testid": "ticket-error", role: "alert" });
    this.description = el("p", { class: "tk-desc", "data-testid": "ticket-description" });
    this.fields = el("dl", { class: "kvs tk-fields", "data-testid": "ticket-fields" });

    // Status, assignment, transfer and edits.
    this.statusButtons = el("div", { class: "tk-buttons", "data-testid": "ticket-status-actions" });
    this.statusReason = el("input", { class: "input input--sm", maxlength: 500, "data-testid": "ticket-status-reason", "data-i18n-placeholder": "tk.d.statusReason", placeholder: t("tk.d.statusReason") });
    this.pullBtn = tr("tk.d.pull", "button", { type: "button", class: "btn btn--sm btn--primary", "data-testid": "ticket-pull" });
    this.assignSelect = select("ticket-assign-agent", []);
    this.assignBtn = tr("tk.d.assign", "button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-assign" });
    this.assignRow = el("div", { class: "tk-inline" }, tr("tk.d.assignTo", "span", { class: "tk-inline__label" }), this.assignSelect, this.assignBtn);
    this.transferGroup = select("ticket-transfer-group", []);
    this.transferReason = el("input", { class: "input input--sm", maxlength: 500, "data-testid": "ticket-transfer-reason", "data-i18n-placeholder": "tk.d.transferReason", placeholder: t("tk.d.transferReason") });
    this.transferBtn = tr("tk.d.transfer", "button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-transfer" });
    this.editPriority = select("ticket-edit-priority", PRIORITIES.map((p) => option(p, `tk.priority.${p}`)));
    this.editType = select("ticket-edit-type", TYPES.map((x) => option(x, `tk.type.${x}`)));
    this.editOrder = el("input", { class: "input input--sm", maxlength: 64, "data-testid": "ticket-edit-order", "data-i18n-placeholder": "tk.d.order", placeholder: t("tk.d.order") });
    this.editBtn = tr("tk.d.edit", "button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-edit-save" });

    // Notes and replies.
    this.noteInput = el("textarea", { class: "textarea", rows: 3, maxlength: MAX_DESCRIPTION, "data-testid": "ticket-note-input", "data-i18n-placeholder": "tk.d.notePlaceholder", placeholder: t("tk.d.notePlaceholder") });
    this.noteBtn = tr("tk.d.addNote", "button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-note-add" });
    this.replyBtn = tr("tk.d.reply", "button", { type: "button", class: "btn btn--sm btn--primary", "data-testid": "ticket-reply-send" });

    this.timeline = el("ol", { class: "sd-tk-timeline", "data-testid": "ticket-timeline" });
    this.chats = el("ul", { class: "tk-chats", "data-testid": "ticket-chats" });
    this.transcriptTitle = el("h3", { class: "tk-section__title", hidden: true });
    this.transcriptList = el("div", { class: "tk-transcript", "data-testid": "ticket-chat-transcript", hidden: true });
    this.conv = new Conversation({ list: this.transcriptList, typingEl: null, selfRole: "viewer", testId: "ticket-chat-message", botExtras: (m) => botExtras(m), socket: null, api: this.api, onNotice: (text) => desk.toast(text, "error") });

    const section = (key, ...children) => el("section", { class: "tk-section" }, tr(key, "h3", { class: "tk-section__title" }), ...children);
    this.el = el(
      "article",
      { class: "tk-detail", "data-testid": "ticket-detail", "data-ticket-id": ticketId },
      el("header", { class: "tk-detail__head" }, el("div", { class: "tk-detail__heading" }, this.title, this.headTags), this.closeBtn),
      this.error,
      el(
        "div",
        { class: "tk-detail__body" },
        el(
          "div",
          { class: "tk-detail__main" },
          section("tk.d.description", this.description),
          section(
            "tk.d.actions",
            el("div", { class: "tk-inline" }, this.statusButtons, this.statusReason),
            el("div", { class: "tk-inline" }, this.pullBtn, this.assignRow),
            el("div", { class: "tk-inline" }, tr("tk.d.transferTo", "span", { class: "tk-inline__label" }), this.transferGroup, this.transferReason, this.transferBtn),
            el("div", { class: "tk-inline" }, this.editPriority, this.editType, this.editOrder, this.editBtn),
          ),
          section("tk.d.timeline", this.timeline),
          el("section", { class: "tk-section tk-note" }, this.noteInput, el("div", { class: "tk-note__actions" }, this.noteBtn, this.replyBtn)),
        ),
        el(
          "aside",
          { class: "tk-detail__side" },
          this.fields,
          section("tk.d.chats", this.chats, this.transcriptTitle, this.transcriptList),
        ),
      ),
    );

    this.closeBtn.addEventListener("click", () => desk.closeDetail());
    this.pullBtn.addEventListener("click", () => this.act((v) => this.api.post(ticketPath(this.id, "/assign"), { version: v }), "tk.d.pulled"));
    this.assignBtn.addEventListener("click", () => {
      const agentId = this.assignSelect.value;
      if (agentId) this.act((v) => this.api.post(ticketPath(this.id, "/assign"), { version: v, agent_id: agentId }), "tk.d.assigned");
    });
    this.transferBtn.addEventListener("click", () => {
      const reason = this.transferReason.value.trim();
      const groupId = this.transferGroup.value;
      if (!reason) {
        this.showError(t("tk.d.needReason"));
        this.transferReason.focus();
        return;
      }
      this.act((v) => this.api.post(ticketPath(this.id, "/transfer"), { version: v, group_id: groupId, reason }), "tk.d.transferred").then((ok) => {
        if (ok) this.transferReason.value = "";
      });
    });
    this.editBtn.addEventListener("click", () => this.saveEdits());
    this.noteBtn.addEventListener("click", () => this.addNote(false));
    this.replyBtn.addEventListener("click", () => this.addNote(true));
    this.render();
  }

  dispose() {
    this.request += 1;
    this.conv.reset(null);
  }

  showError(text) {
    this.error.textContent = text || "";
  }

  // ---- loading ---------------------------------------------------------------------------------

  async reload() {
    const request = ++this.request;
    try {
      const [tk, events] = await Promise.all([
        this.api.get(ticketPath(this.id)),
        this.api.getAll(ticketPath(this.id, "/timeline"), { limit: 100 }, 20),
      ]);
      if (request !== this.request) return;
      this.ticket = tk;
      this.events = mergeEvents([], events);
      this.render();
      this.desk.upsert(tk);
    } catch (e) {
      if (request === this.request) this.showError(errorText(e));
    }
  }

  async reloadEvents() {
    const request = this.request;
    try {
      const events = await this.api.getAll(ticketPath(this.id, "/timeline"), { limit: 100 }, 20);
      if (request !== this.request) return;
      this.events = mergeEvents(this.events, events);
      this.renderTimeline();
    } catch {
      // The next reload brings them.
    }
  }

  live(tk, event) {
    if (this.ticket && Number.isInteger(tk.version) && Number.isInteger(this.ticket.version) && tk.version < this.ticket.version) return;
    this.ticket = { ...this.ticket, ...tk };
    this.render();
    if (event) this.reloadEvents();
  }

  // Every change carries the version the agent saw; a 409 (invalid transition, version conflict)
  // shows the server's words and reloads, so nothing typed elsewhere on the page is lost.
  async act(call, okKey) {
    if (!this.ticket) return false;
    this.showError("");
    this.setBusy(true);
    this.desk.markOwn(this.id);
    try {
      const tk = await call(this.ticket.version);
      if (tk?.ticket_id) {
        this.ticket = tk;
        this.desk.upsert(tk);
      }
      this.render();
      this.desk.toast(t(okKey), "success");
      await this.reloadEvents();
      return true;
    } catch (e) {
      this.showError(isConflict(e) ? e.message || errorText(e) : errorText(e));
      if (isConflict(e)) await this.reload();
      return false;
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    for (const b of this.el.querySelectorAll(".tk-detail__main button")) b.disabled = busy;
    if (!busy) this.renderActions();
  }

  async saveEdits() {
    const tk = this.ticket;
    if (!tk) return;
    const body = {};
    if (this.editPriority.value !== tk.priority) body.priority = this.editPriority.value;
    if (this.editType.value !== tk.type) body.type = this.editType.value;
    const order = this.editOrder.value.trim();
    if (order !== (tk.order_number || "")) body.order_number = order;
    if (!Object.keys(body).length) return;
    await this.act((v) => this.api.patch(ticketPath(this.id), { version: v, ...body }), "tk.d.saved");
  }

  async addNote(isPublic) {
    const text = this.noteInput.value.trim();
    if (!text) {
      this.showError(t("tk.d.needText"));
      this.noteInput.focus();
      return;
    }
    this.showError("");
    this.setBusy(true);
    this.desk.markOwn(this.id);
    try {
      const ev = await this.api.post(ticketPath(this.id, "/notes"), { text, public: isPublic });
      // Only what was sent is cleared: words typed meanwhile stay.
      if (this.noteInput.value.trim() === text) this.noteInput.value = "";
      if (ev?.event_id) {
        this.events = mergeEvents(this.events, [ev]);
        this.renderTimeline();
      }
      this.desk.toast(t(isPublic ? "tk.d.replied" : "tk.d.noteAdded"), "success");
      // A first reply may move the SLA clock and the status: show the ticket as it is now.
      const tk = await this.api.get(ticketPath(this.id));
      if (tk?.ticket_id) {
        this.ticket = tk;
        this.render();
        this.desk.upsert(tk);
      }
    } catch (e) {
      this.showError(errorText(e));
    } finally {
      this.setBusy(false);
    }
  }

  async showChat(sessionId) {
    for (const b of this.chats.querySelectorAll("button")) b.classList.toggle("is-active", b.dataset.sessionId === sessionId);
    this.transcript = sessionId;
    this.transcriptTitle.hidden = false;
    this.transcriptTitle.textContent = `${t("tk.d.transcript")} · ${shortTicketId(sessionId)}`;
    this.transcriptList.hidden = false;
    this.conv.reset(sessionId);
    try {
      const items = await this.api.getAll(ticketPath(this.id, `/chats/${encodeURIComponent(sessionId)}/messages`), { since: 0 }, 20);
      if (this.transcript !== sessionId) return;
      for (const m of items) this.conv.add(m);
      if (!items.length) this.transcriptList.append(tr("tk.d.noMessages", "p", { class: "list__empty" }));
      this.conv.scrollToBottom();
    } catch (e) {
      if (this.transcript === sessionId) this.transcriptList.replaceChildren(el("p", { class: "list__empty list__error", text: errorText(e) }));
    }
  }

  // ---- rendering -------------------------------------------------------------------------------

  render() {
    const tk = this.ticket;
    this.title.textContent = t("tk.id", { id: shortTicketId(this.id) });
    if (!tk) {
      this.headTags.replaceChildren(tr("tk.loading", "span", { class: "tag tag--muted" }));
      return;
    }
    this.el.dataset.status = tk.status;
    this.el.dataset.version = String(tk.version ?? "");
    this.headTags.replaceChildren(
      statusTag(tk.status, { "data-testid": "ticket-status" }),
      priorityTag(tk.priority, { "data-testid": "ticket-priority" }),
      typeTag(tk.type, { "data-testid": "ticket-type" }),
      slaBadge(tk.sla, { "data-testid": "ticket-detail-sla" }),
    );
    this.description.textContent = tk.description || "";
    this.renderFields();
    this.renderActions();
    this.renderChats();
    this.renderTimeline();
  }

  renderFields() {
    const tk = this.ticket;
    const sla = tk.sla || {};
    const row = (key, name, value) => el("div", { class: "kv" }, tr(key, "dt"), el("dd", { "data-testid": `ticket-field-${name}` }, value ?? ""));
    const customer = [tk.customer_id ? shortTicketId(tk.customer_id) : "", tk.contact || ""].filter(Boolean).join(" · ");
    const creator = tk.created_by ? [tk.created_by.name, tk.created_by.role ? t(tk.created_by.role === "visitor" ? "tk.actor.visitor" : `role.${tk.created_by.role}`) : ""].filter(Boolean).join(" · ") : "";
    let link = "";
    if (tk.link) {
      const href = new URL(tk.link, location.origin).href;
      link = el("a", { href, target: "_blank", rel: "noopener noreferrer", "data-testid": "ticket-link", text: t("tk.d.link") });
    }
    this.fields.replaceChildren(
      row("tk.d.type", "type", label("type", tk.type)),
      row("tk.d.priority", "priority", label("priority", tk.priority)),
      row("tk.d.status", "status", label("status", tk.status)),
      row("tk.d.group", "group", tk.group_name || this.desk.groupName(tk.group_id) || t("tk.noGroup")),
      row("tk.d.assignee", "assignee", tk.assignee_name || tk.assignee_id || t("tk.unassigned")),
      row("tk.d.order", "order", tk.order_number || "—"),
      row("tk.d.customer", "customer", customer || "—"),
      row("tk.d.source", "source", label("source", tk.source)),
      row("tk.d.createdBy", "created-by", creator || "—"),
      row("tk.d.createdAt", "created-at", formatTime(tk.created_at)),
      row("tk.d.sla", "sla", `${label("sla", sla.state) || "—"} · ${t(sla.business_hours ? "tk.d.businessHours" : "tk.d.allHours")}`),
      row("tk.d.firstDue", "first-due", formatDue(sla.first_response_due_at)),
      row("tk.d.firstAt", "first-at", formatDue(sla.first_response_at)),
      row("tk.d.resolutionDue", "resolution-due", formatDue(sla.resolution_due_at)),
      row("tk.d.resolvedAt", "resolved-at", formatDue(sla.resolved_at)),
      row("tk.d.escalation", "escalation", t("tk.d.escLevel", { n: sla.escalation_level ?? 0 })),
      link ? row("tk.d.link", "link", link) : "",
    );
  }

  renderActions() {
    const tk = this.ticket;
    if (!tk) return;
    // Transferring needs a group and a reason: it has its own row, not a plain status button.
    const next = (tk.allowed_statuses || []).filter((s) => s !== "transferred").sort((a, b) => STATUSES.indexOf(a) - STATUSES.indexOf(b));
    this.statusButtons.replaceChildren(
      ...next.map((s) => {
        const b = el("button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-status-btn", "data-status": s, text: t("tk.d.setStatus", { s: label("status", s) }) });
        b.addEventListener("click", () => {
          const reason = this.statusReason.value.trim();
          const body = reason ? { status: s, reason } : { status: s };
          this.act((v) => this.api.post(ticketPath(this.id, "/status"), { version: v, ...body }), "tk.d.saved").then((ok) => {
            if (ok) this.statusReason.value = "";
          });
        });
        return b;
      }),
    );
    this.statusReason.hidden = !next.length;
    const me = this.desk.me();
    this.pullBtn.hidden = tk.assignee_id === me.id;
    this.assignRow.hidden = !this.desk.isLead();
    const keep = this.assignSelect.value;
    const candidates = this.desk.agents.filter((a) => a.role !== "admin" && (!tk.group_id || (a.group_ids || []).includes(tk.group_id)));
    const agents = candidates.length ? candidates : this.desk.agents.filter((a) => a.role !== "admin");
    this.assignSelect.replaceChildren(
      ...(agents.length ? agents.map((a) => option(a.agent_id, null, a.name || a.username)) : [option("", "tk.d.noAgents")]),
    );
    if (agents.some((a) => a.agent_id === keep)) this.assignSelect.value = keep;
    const keepGroup = this.transferGroup.value;
    const groups = [...this.desk.groups].filter(([id]) => id !== tk.group_id);
    this.transferGroup.replaceChildren(...groups.map(([id, name]) => option(id, null, name || id)));
    if (groups.some(([id]) => id === keepGroup)) this.transferGroup.value = keepGroup;
    this.transferBtn.disabled = !groups.length;
    if (document.activeElement !== this.editPriority) this.editPriority.value = tk.priority;
    if (document.activeElement !== this.editType) this.editType.value = tk.type;
    if (document.activeElement !== this.editOrder) this.editOrder.value = tk.order_number || "";
  }

  renderChats() {
    const ids = this.ticket.session_ids || [];
    if (!ids.length) {
      this.chats.replaceChildren(tr("tk.d.noChats", "li", { class: "list__empty" }));
      return;
    }
    this.chats.replaceChildren(
      ...ids.map((sid) => {
        const b = el("button", {
          type: "button",
          class: `btn btn--sm tk-chat${sid === this.transcript ? " is-active" : ""}`,
          "data-testid": "ticket-chat",
          "data-session-id": sid,
          text: t("tk.d.chat", { id: shortTicketId(sid) }),
        });
        b.addEventListener("click", () => this.showChat(sid));
        return el("li", {}, b);
      }),
    );
  }

  renderTimeline() {
    if (!this.events.length) {
      this.timeline.replaceChildren(tr("tk.d.noEvents", "li", { class: "list__empty" }));
      return;
    }
    this.timeline.replaceChildren(...this.events.map((ev) => eventItem(ev, { groupName: (id) => this.desk.groupName(id) })));
  }
}

// ---- the "create ticket" dialog --------------------------------------------------------------

// Guesses the ticket type from the chat's skill group (after-sales, logistics), else "other".
function typeForGroup(groupId, groupName) {
  const s = `${groupId || ""} ${groupName || ""}`.toLowerCase();
  if (/after|售后/.test(s)) return "after_sales";
  if (/logist|物流/.test(s)) return "logistics";
  if (/tech|技术/.test(s)) return "technical";
  return "other";
}

class CreateDialog {
  constructor(desk) {
    this.desk = desk;
    this.session = null;
    this.type = select("ticket-create-type", TYPES.map((x) => option(x, `tk.type.${x}`)), { class: "select" });
    this.priority = select("ticket-create-priority", PRIORITIES.map((p) => option(p, `tk.priority.${p}`)), { class: "select" });
    this.group = select("ticket-create-group", [], { class: "select" });
    this.order = el("input", { class: "input", maxlength: 64, "data-testid": "ticket-create-order" });
    this.contact = el("input", { class: "input", maxlength: 100, "data-testid": "ticket-create-contact" });
    this.description = el("textarea", { class: "textarea", rows: 5, maxlength: MAX_DESCRIPTION, required: true, "data-testid": "ticket-create-description" });
    this.sessionNote = el("p", { class: "tk-create__session", "data-testid": "ticket-create-session", hidden: true });
    this.error = el("p", { class: "form-error", role: "alert", "data-testid": "ticket-create-error" });
    this.cancel = tr("tk.c.cancel", "button", { type: "button", class: "btn" });
    this.submit = tr("tk.c.submit", "button", { type: "submit", class: "btn btn--primary", "data-testid": "ticket-create-submit" });
    this.form = el(
      "form",
      { method: "dialog", novalidate: true },
      tr("tk.c.title", "h2"),
      this.sessionNote,
      el("div", { class: "tk-create__row" }, field("tk.c.type", this.type, { class: "field" }), field("tk.c.priority", this.priority, { class: "field" })),
      el("div", { class: "tk-create__row" }, field("tk.c.group", this.group, { class: "field" }), field("tk.c.order", this.order, { class: "field" })),
      field("tk.c.contact", this.contact, { class: "field" }),
      field("tk.c.description", this.description, { class: "field" }),
      this.error,
      el("div", { class: "dialog__actions" }, this.cancel, this.submit),
    );
    this.el = el("dialog", { class: "dialog tk-create", "data-testid": "ticket-create-dialog" }, this.form);
    this.cancel.addEventListener("click", () => this.el.close());
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.send();
    });
    this.renderGroups();
  }

  renderGroups() {
    const keep = this.group.value;
    // Empty means the server's default: the chat's group, or the store's default group.
    this.group.replaceChildren(
      this.session ? option("", "tk.c.defaultGroup") : option("", null, "—"),
      ...[...this.desk.groups].map(([id, name]) => option(id, null, name || id)),
    );
    if ([...this.group.options].some((o) => o.value === keep)) this.group.value = keep;
  }

  async open(session) {
    this.session = session?.session_id ? session : null;
    this.form.reset();
    this.error.textContent = "";
    this.renderGroups();
    this.group.value = "";
    this.priority.value = "normal";
    this.type.value = this.session ? typeForGroup(session.group_id, this.desk.groupName(session.group_id)) : "other";
    this.sessionNote.hidden = !this.session;
    this.contact.value = session?.contact || "";
    if (this.session) this.sessionNote.textContent = t("tk.c.session", { id: shortTicketId(session.session_id) });
    this.el.showModal();
    this.description.focus();
    if (this.session) {
      // The customer's last words, oldest first, as the starting description.
      const sessionId = this.session.session_id;
      try {
        const items = await this.desk.api.getAll(sessionPath(sessionId, "/messages"), { since: 0 }, 10);
        if (this.session?.session_id !== sessionId || this.description.value) return;
        const said = items.filter((m) => roleOf(m.sender?.role) === "visitor" && m.kind === "text" && m.text).map((m) => m.text);
        this.description.value = said.slice(-5).join("\n").slice(0, MAX_DESCRIPTION);
      } catch {
        // The agent writes the description.
      }
    }
  }

  async send() {
    const description = this.description.value.trim();
    if (!description) {
      this.error.textContent = t("tk.c.needDescription");
      this.description.focus();
      return;
    }
    const body = { type: this.type.value, priority: this.priority.value, description };
    if (this.order.value.trim()) body.order_number = this.order.value.trim();
    if (this.group.value) body.group_id = this.group.value;
    if (this.contact.value.trim()) body.contact = this.contact.value.trim();
    if (this.session) body.session_id = this.session.session_id;
    this.submit.disabled = true;
    try {
      const tk = await this.desk.api.post("/tickets", body);
      this.el.close();
      await this.desk.created(tk);
    } catch (e) {
      this.error.textContent = errorText(e);
    } finally {
      this.submit.disabled = false;
    }
  }
}
