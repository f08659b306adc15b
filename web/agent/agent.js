// Agent workspace: login, queue, my sessions, live chat panes, quick replies, transfer, visitor panel.
import { Api, sessionPath } from "../common/api.js";
import { ChatSocket } from "../common/ws.js";
import { Composer, Conversation, el, icon, onActivate, roleOf, safeUrl, toast, tr } from "../common/chat.js";
import { bindPage, errorText, formatDuration, formatTime, onLangChange, t, toggleLang, translateTree } from "../common/i18n.js";
import { botExtras } from "../common/bot.js";
import { AUTH_KEY, NOTICE_KEY, bindLoginForm, loadAuth, showLoginNotice } from "../common/login.js";
import { KbAdmin } from "./kb.js";
import { KbAssist } from "./kbassist.js";
import { TicketDesk } from "./tickets.js";

const cfg = window.SHOPDESK_CONFIG || {};
const STATUSES = ["online", "away", "offline"];
const QUEUE_REFRESH_MS = 30000;
const QUICK_DEBOUNCE_MS = 300;

const $ = (id) => document.getElementById(id);

let auth = loadAuth();

const api = new Api({
  baseUrl: cfg.apiUrl,
  getToken: () => auth?.token,
  onUnauthorized: async () => {
    logout("a.login.expired");
    return false;
  },
});

// ---- small UI helpers ----------------------------------------------------------------------------

function shortId(id) {
  const s = String(id || "");
  return s.length > 8 ? s.slice(-6).toUpperCase() : s;
}

function visitorLabel(session) {
  return t("a.visitorLabel", { id: shortId(session.visitor_id) });
}

function groupName(id) {
  return groups.get(id) || id || "";
}

function secondsSince(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : (Date.now() - ms) / 1000;
}

function previewOf(message) {
  if (message.kind === "image") return t("chat.image");
  return message.text || "";
}

function statusTag(status) {
  const cls = { active: "tag", queued: "tag tag--warning", ended: "tag tag--muted", offline: "tag tag--warning" }[status] || "tag tag--muted";
  return el("span", { class: cls, text: t(`sstatus.${status}`) });
}

// ---- state ---------------------------------------------------------------------------------------

const groups = new Map();
const sessions = new Map(); // my active sessions: id -> {session, unread, preview, lastAt, seenSeq}
const reminders = new Map(); // id -> {seconds, at}: customer waiting past the first-response threshold
const panes = new Map();
let activeId = null;
let queueItems = [];
let queueTimer = null;
let quickTimer = null;
let transferPane = null;
let transferAgents = [];
const kb = new KbAdmin({ api, me: () => me(), toast });
const tickets = new TicketDesk({ api, me: () => me(), toast, groups, onView: (view) => kb.show(view === "kb") });
const kbAssist = new KbAssist({ api, toast, activePane: () => panes.get(activeId) || null });

// ---- login / logout ------------------------------------------------------------------------------

let loggingOut = false;

function logout(noticeKey) {
  if (loggingOut) return;
  loggingOut = true;
  const finish = () => {
    sessionStorage.removeItem(AUTH_KEY);
    if (noticeKey) sessionStorage.setItem(NOTICE_KEY, noticeKey);
    // A reload is the simplest complete reset of sockets, timers and panes.
    location.reload();
  };
  socket.stop();
  // Signing out on purpose also stops new chats from being routed here.
  if (!noticeKey && canServe()) api.put("/agent/status", { status: "offline" }).catch(() => {}).finally(finish);
  else finish();
}

function showLogin() {
  $("login-view").hidden = false;
  $("workspace").hidden = true;
  $("me").hidden = true;
  $("conn").hidden = true;
  showLoginNotice();
}

bindLoginForm(api, (signedIn) => {
  auth = signedIn;
  startWorkspace(true);
});

$("logout").addEventListener("click", () => logout());

function me() {
  return auth?.user || {};
}

function canServe() {
  const roles = me().roles || [];
  return roles.includes("agent") || roles.includes("leader");
}

// ---- workspace start -----------------------------------------------------------------------------

function renderMe() {
  const user = me();
  const name = user.name || user.username || "";
  $("agent-name").textContent = name;
  $("me-avatar").textContent = name.slice(0, 1);
  const roles = user.roles || [];
  const main = ["admin", "leader", "agent"].find((r) => roles.includes(r));
  $("agent-role").textContent = main ? t(`role.${main}`) : "";
  $("agent-role").hidden = !main;
}

async function initStatus(freshLogin) {
  const select = $("agent-status");
  select.hidden = !canServe();
  if (!canServe()) return;
  // Signing in means starting work; a page reload keeps whatever the server has.
  if (freshLogin) {
    await setStatus("online");
    return;
  }
  try {
    const profile = await api.get("/me");
    if (STATUSES.includes(profile?.status)) select.value = select.dataset.status = profile.status;
  } catch {
    // The select keeps its default; the next change is sent as usual.
  }
}

async function setStatus(status) {
  const select = $("agent-status");
  const previous = select.dataset.status || select.value;
  select.value = status;
  try {
    await api.put("/agent/status", { status });
    select.dataset.status = status;
  } catch (e) {
    select.value = previous;
    toast(errorText(e), "error");
  }
}

$("agent-status").addEventListener("change", (ev) => setStatus(ev.target.value));

async function loadGroups() {
  try {
    const data = await api.get("/groups");
    for (const g of data?.items || []) groups.set(g.group_id, g.name);
    renderQueue();
    renderSessions();
  } catch {
    // Group ids are shown instead of names.
  }
}

function startWorkspace(freshLogin) {
  $("login-view").hidden = true;
  $("workspace").hidden = false;
  $("me").hidden = false;
  $("conn").hidden = false;
  renderMe();
  renderVisitor();
  // The supervisor dashboard is for leaders and admins (the server checks too).
  $("nav-monitor").hidden = !["leader", "admin"].some((r) => (me().roles || []).includes(r));
  initStatus(freshLogin);
  loadGroups();
  socket.start();
  refreshQueue();
  refreshSessions();
  loadQuickReplies();
  tickets.start();
  kb.start();
  kbAssist.loadAssist();
  setInterval(refreshQueue, QUEUE_REFRESH_MS);
  setInterval(tick, 1000);
}

// ---- WebSocket -----------------------------------------------------------------------------------

const socket = new ChatSocket({
  getUrl: async () => {
    if (!auth || auth.expires_at <= Date.now()) {
      logout("a.login.expired");
      throw new Error("signed out");
    }
    return `${cfg.wsUrl}?token=${encodeURIComponent(auth.token)}`;
  },
  api,
  tracked: () => [...panes.values()].filter((p) => p.loaded).map((p) => ({ sessionId: p.id, lastSeq: p.conv.lastSeq })),
  onFrame: handleFrame,
  onState: renderConn,
  onOpen: (reconnected) => {
    // Frames sent while we were away are lost; the lists are rebuilt from REST.
    if (reconnected) {
      refreshQueue();
      refreshSessions();
      tickets.refresh();
    }
  },
  // Repeated refusals usually mean a revoked token; /me answers 401 then, which signs the agent out.
  onConnectFailed: (count) => {
    if (count >= 3) api.get("/me").catch(() => {});
  },
});

function renderConn(state) {
  const conn = $("conn");
  conn.dataset.state = state;
  const key = { open: "a.conn.open", connecting: "a.conn.connecting", closed: "a.conn.closed" }[state];
  conn.dataset.i18n = key;
  conn.textContent = t(key);
}

function handleFrame(frame) {
  switch (frame.type) {
    case "assigned":
      if (frame.session?.session_id) {
        upsertSession(frame.session);
        openPane(frame.session.session_id);
      }
      scheduleQueueRefresh();
      break;
    case "session":
      if (frame.session?.session_id) applySessionUpdate(frame.session);
      scheduleQueueRefresh();
      break;
    case "reminder":
      setReminder(frame.session_id, frame.waiting_seconds);
      break;
    case "queue_changed":
      scheduleQueueRefresh();
      break;
    case "ticket":
      tickets.handleFrame(frame);
      break;
    case "error": {
      const pane = [...panes.values()].find((p) => p.conv.owns(frame.request_id));
      if (pane) pane.conv.handleFrame(frame);
      toast(errorText(frame), "error");
      break;
    }
    case "pong":
      break;
    default:
      if (frame.session_id) routeSessionFrame(frame);
  }
}

function applySessionUpdate(s) {
  const id = s.session_id;
  const mine = !s.agent_id || s.agent_id === me().id;
  const pane = panes.get(id);
  if (s.status === "ended") {
    dropSession(id);
    pane?.update(s);
  } else if (s.status === "active" && mine) {
    upsertSession(s);
  } else if (sessions.has(id) || pane) {
    // Transferred away (or back to the queue): it is no longer this agent's to answer.
    dropSession(id);
    pane?.close();
  }
}

function routeSessionFrame(frame) {
  const id = frame.session_id;
  const pane = panes.get(id);
  const entry = sessions.get(id);
  let message = null;
  if (pane) message = pane.conv.handleFrame(frame);
  else if (frame.type === "message" && entry && frame.message?.seq > entry.seenSeq) message = frame.message;
  if (frame.type === "ack") clearReminder(id);
  if (!message || !entry) return;
  entry.seenSeq = Math.max(entry.seenSeq, message.seq);
  entry.preview = previewOf(message);
  entry.lastAt = message.created_at;
  const role = roleOf(message.sender?.role);
  if (role === "visitor") {
    if (isSeen(id)) markActiveRead();
    else entry.unread += 1;
    if (id === activeId) {
      scheduleQuickReplies();
      kbAssist.scheduleAssist();
    }
  } else if (role === "agent") {
    clearReminder(id);
  }
  renderSessions();
}

// ---- queue ---------------------------------------------------------------------------------------

async function refreshQueue() {
  if (!auth) return;
  try {
    const data = await api.get("/agent/queue");
    queueItems = data?.items || [];
    renderQueue();
  } catch (e) {
    // Keep the last known queue visible, with the reason it may be stale on top.
    if (e.status !== 401) {
      renderQueue();
      $("queue-list").prepend(el("li", { class: "list__empty list__error", text: errorText(e) }));
    }
  }
}

function scheduleQueueRefresh() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(refreshQueue, 300);
}

function renderQueue() {
  const list = $("queue-list");
  $("queue-count").textContent = String(queueItems.filter((s) => s.status !== "offline").length);
  if (!queueItems.length) {
    list.replaceChildren(tr("a.queue.empty", "li", { class: "list__empty" }));
    return;
  }
  list.replaceChildren(...queueItems.map(queueItem));
}

function queueItem(s) {
  const offline = s.status === "offline";
  const li = el("li", { class: `qitem${offline ? " qitem--offline" : ""}`, "data-testid": "queue-item", "data-session-id": s.session_id });
  const top = el(
    "div",
    { class: "qitem__top" },
    el("span", { class: "qitem__name", text: visitorLabel(s) }),
    offline ? el("span", { class: "tag tag--warning", text: t("a.offlineMessage") }) : null,
    s.group_id ? el("span", { class: "tag tag--muted", text: groupName(s.group_id) }) : null,
  );
  li.append(top);
  // preview: an offline message's text, or a queued chat's first words.
  li.append(s.preview ? el("p", { class: "qitem__preview", text: s.preview }) : tr("a.noPreview", "p", { class: "qitem__preview qitem__preview--empty" }));
  if (offline && s.contact) li.append(el("p", { class: "qitem__contact", text: t("a.contact", { c: s.contact }) }));
  const foot = el("div", { class: "qitem__foot" });
  if (offline) {
    foot.append(el("span", { class: "qitem__time", text: formatTime(s.created_at) }));
  } else {
    foot.append(el("span", { class: "qitem__time", "data-since": s.created_at, text: t("a.waiting", { t: formatDuration(secondsSince(s.created_at)) }) }));
    if (canServe()) {
      const btn = tr("a.accept", "button", { type: "button", class: "btn btn--primary btn--sm", "data-testid": "queue-accept" });
      btn.addEventListener("click", () => accept(s, btn));
      foot.append(btn);
    }
  }
  li.append(foot);
  return li;
}

async function accept(queued, btn) {
  btn.disabled = true;
  try {
    const res = await api.post(sessionPath(queued.session_id, "/accept"));
    const s = res?.session ?? res;
    upsertSession(s?.session_id ? s : { ...queued, status: "active", agent_id: me().id });
    openPane(queued.session_id);
    toast(t("a.accepted"), "success");
  } catch (e) {
    btn.disabled = false;
    toast(errorText(e), "error");
  }
  scheduleQueueRefresh();
}

// ---- my sessions ---------------------------------------------------------------------------------

async function refreshSessions() {
  if (!auth) return;
  let items;
  try {
    items = await api.getAll("/agent/sessions", { status: "active" });
  } catch (e) {
    if (e.status !== 401) toast(errorText(e), "error");
    return;
  }
  const ids = new Set(items.map((s) => s.session_id));
  for (const id of [...sessions.keys()]) {
    if (!ids.has(id)) {
      dropSession(id);
      panes.get(id)?.refresh();
    }
  }
  for (const s of items) upsertSession(s);
}

function upsertSession(s) {
  const entry = sessions.get(s.session_id) || { unread: 0, preview: "", lastAt: null, seenSeq: 0 };
  entry.session = { ...entry.session, ...s };
  sessions.set(s.session_id, entry);
  panes.get(s.session_id)?.update(entry.session);
  renderSessions();
}

function dropSession(id) {
  if (sessions.delete(id)) renderSessions();
  reminders.delete(id);
}

function renderSessions() {
  const list = $("session-list");
  $("session-count").textContent = String(sessions.size);
  if (!sessions.size) {
    list.replaceChildren(tr("a.sessions.empty", "li", { class: "list__empty" }));
    for (const pane of panes.values()) pane.renderAlerts();
    return;
  }
  const sortKey = (e) => Date.parse(e.lastAt || e.session.created_at) || 0;
  const entries = [...sessions.values()].sort((a, b) => sortKey(b) - sortKey(a));
  list.replaceChildren(...entries.map(sessionItem));
  for (const pane of panes.values()) pane.renderAlerts();
}

function sessionItem(entry) {
  const s = entry.session;
  const overdue = reminders.has(s.session_id);
  const li = el("li", {
    class: `sitem${s.session_id === activeId ? " is-active" : ""}${overdue ? " is-overdue" : ""}`,
    "data-testid": "session-item",
    "data-session-id": s.session_id,
    tabindex: 0,
    role: "button",
  });
  const badges = el("div", { class: "sitem__badges" });
  if (overdue) badges.append(tr("a.overdue", "span", { class: "tag tag--alert" }));
  if (entry.unread) badges.append(el("span", { class: "badge", text: entry.unread > 99 ? "99+" : String(entry.unread) }));
  li.append(
    el("span", { class: "avatar", "aria-hidden": "true", text: shortId(s.visitor_id).slice(-2) }),
    el(
      "div",
      { class: "sitem__body" },
      el(
        "div",
        { class: "sitem__top" },
        el("span", { class: "sitem__name", text: visitorLabel(s) }),
        el("time", { class: "sitem__time", text: formatTime(entry.lastAt || s.created_at) }),
      ),
      el(
        "div",
        { class: "sitem__bottom" },
        entry.preview
          ? el("span", { class: "sitem__preview", text: entry.preview })
          : el("span", { class: "sitem__preview", text: [t(`channel.${s.channel}`), groupName(s.group_id)].filter(Boolean).join(" · ") }),
        badges,
      ),
    ),
  );
  return onActivate(li, () => openPane(s.session_id));
}

// ---- reminders -----------------------------------------------------------------------------------

function setReminder(id, seconds) {
  if (!id) return;
  reminders.set(id, { seconds: Number(seconds) || 0, at: Date.now() });
  if (!sessions.has(id)) refreshSessions();
  renderSessions();
  panes.get(id)?.renderAlerts();
}

function clearReminder(id) {
  if (!reminders.delete(id)) return;
  renderSessions();
  panes.get(id)?.renderAlerts();
}

function waitedSeconds(id) {
  const r = reminders.get(id);
  return r ? Math.floor(r.seconds + (Date.now() - r.at) / 1000) : 0;
}

function tick() {
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = t("a.waiting", { t: formatDuration(secondsSince(node.dataset.since)) });
  }
  panes.get(activeId)?.renderAlerts();
}

// ---- panes ---------------------------------------------------------------------------------------

function isSeen(id) {
  return id === activeId && document.visibilityState === "visible";
}

function markActiveRead() {
  const pane = panes.get(activeId);
  if (!pane || document.visibilityState !== "visible") return;
  pane.conv.markRead();
  const entry = sessions.get(activeId);
  if (entry?.unread) {
    entry.unread = 0;
    renderSessions();
  }
}

class Pane {
  constructor(session) {
    this.id = session.session_id;
    this.session = session;
    this.loaded = false;
    this.ended = false;
    this.scrollTop = null;

    this.title = el("strong", { class: "pane__title" });
    this.tags = el("span", { class: "pane__tags" });
    this.transferBtn = el("button", { type: "button", class: "btn btn--sm", "data-testid": "transfer-open" }, icon("transfer"), tr("a.transfer"));
    this.endBtn = el("button", { type: "button", class: "btn btn--sm btn--danger", "data-testid": "end-session" }, icon("stop"), tr("a.end"));
    this.ticketBtn = tr("tk.c.open", "button", { type: "button", class: "btn btn--sm", "data-testid": "ticket-create-open" });
    this.closeBtn = tr("a.closePane", "button", { type: "button", class: "btn btn--sm", hidden: true });
    this.banner = el("div", { class: "pane__banner", "data-testid": "reminder-banner", role: "alert", hidden: true });
    this.endedBar = tr("a.ended", "div", { class: "pane__ended", hidden: true });
    this.messages = el("div", { class: "pane__messages", "data-testid": "chat-messages", role: "log" });
    this.typing = tr("chat.typing", "div", { class: "sd-typing", hidden: true });
    this.conv = new Conversation({
      list: this.messages,
      typingEl: this.typing,
      selfRole: "agent",
      selfId: me().id,
      testId: "chat-message",
      // The bot's turns before the handover, with what it offered, so the agent picks up from there.
      botExtras: (m) => botExtras(m),
      socket,
      api,
      onNotice: (text) => toast(text, "error"),
    });
    this.conv.reset(this.id);
    this.composer = new Composer({
      conv: this.conv,
      placeholderKey: "a.reply.placeholder",
      sendKey: "a.send",
      inputTestId: "reply-input",
      sendTestId: "reply-send",
      onNotice: (text) => toast(text, "error"),
    });
    this.el = el(
      "section",
      { class: "pane", "data-testid": "chat-pane", "data-session-id": this.id, role: "tabpanel" },
      el(
        "header",
        { class: "pane__head" },
        el("div", { class: "pane__heading" }, this.title, this.tags),
        el("div", { class: "pane__actions" }, this.ticketBtn, this.transferBtn, this.endBtn, this.closeBtn),
      ),
      this.banner,
      this.messages,
      this.typing,
      this.endedBar,
      this.composer.el,
    );
    this.tabLabel = el("span", { class: "tab__label" });
    this.tabDot = el("span", { class: "tab__dot", hidden: true });
    this.tabClose = el("button", { type: "button", class: "tab__close", "data-i18n-aria-label": "a.closePane", "aria-label": t("a.closePane") }, icon("close"));
    this.tab = el("div", { class: "tab", role: "tab", tabindex: 0 }, this.tabDot, this.tabLabel, this.tabClose);

    this.tab.addEventListener("click", (ev) => {
      if (!this.tabClose.contains(ev.target)) activate(this.id);
    });
    this.tab.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && ev.target === this.tab) activate(this.id);
    });
    this.tabClose.addEventListener("click", () => this.close());
    this.transferBtn.addEventListener("click", () => openTransfer(this));
    this.endBtn.addEventListener("click", () => this.end());
    this.ticketBtn.addEventListener("click", () => tickets.openCreate(this.session));
    this.closeBtn.addEventListener("click", () => this.close());
    this.composer.input.addEventListener("focus", markActiveRead);
    this.update(session);
  }

  async load() {
    await this.conv.loadHistory({ limit: 100 });
    this.loaded = true;
    const entry = sessions.get(this.id);
    if (entry) entry.seenSeq = Math.max(entry.seenSeq, this.conv.lastSeq);
    if (this.id === activeId) {
      markActiveRead();
      scheduleQuickReplies();
      kbAssist.scheduleAssist();
    }
  }

  update(s) {
    this.session = { ...this.session, ...s };
    const label = visitorLabel(this.session);
    this.title.textContent = label;
    this.tabLabel.textContent = label;
    this.tags.replaceChildren(statusTag(this.session.status));
    if (this.session.group_id) this.tags.append(el("span", { class: "tag tag--muted", text: groupName(this.session.group_id) }));
    if (this.session.status === "ended") this.markEnded();
    if (this.id === activeId) renderVisitor();
  }

  // The session left the active list without a frame (e.g. missed while offline): ask the server.
  async refresh() {
    try {
      const s = await api.get(sessionPath(this.id));
      applySessionUpdate(s?.session ?? s);
    } catch {
      // Keep the pane as it is; the agent can still close it.
    }
  }

  markEnded() {
    this.ended = true;
    this.endedBar.hidden = false;
    this.composer.el.hidden = true;
    this.transferBtn.hidden = true;
    this.endBtn.hidden = true;
    this.closeBtn.hidden = false;
    this.tab.classList.add("is-ended");
    this.conv.hideTyping();
    reminders.delete(this.id);
    this.renderAlerts();
  }

  renderAlerts() {
    const waiting = reminders.has(this.id) && !this.ended;
    this.banner.hidden = !waiting;
    if (waiting) this.banner.textContent = `⏰ ${t("a.reminder", { n: waitedSeconds(this.id) })}`;
    this.tabDot.hidden = !waiting && !sessions.get(this.id)?.unread;
  }

  async end() {
    this.endBtn.disabled = true;
    try {
      const res = await api.post(sessionPath(this.id, "/end"));
      const s = res?.session ?? res;
      dropSession(this.id);
      this.update(s?.session_id ? s : { status: "ended" });
      toast(t("a.endedToast"), "success");
    } catch (e) {
      toast(errorText(e), "error");
    } finally {
      this.endBtn.disabled = false;
    }
  }

  close() {
    panes.delete(this.id);
    this.conv.reset(null);
    this.tab.remove();
    this.el.remove();
    if (activeId === this.id) {
      activeId = null;
      const next = [...panes.keys()].pop();
      if (next) activate(next);
      else renderCenter();
    }
  }
}

function openPane(id) {
  if (!panes.has(id)) {
    const entry = sessions.get(id);
    if (!entry) return;
    const pane = new Pane(entry.session);
    panes.set(id, pane);
    $("tabs").append(pane.tab);
    pane.load();
  }
  activate(id);
}

// Only the active pane is in the document; the others keep their DOM (history, draft) detached.
function activate(id) {
  const previous = panes.get(activeId);
  if (previous && activeId !== id) previous.scrollTop = previous.messages.scrollTop;
  activeId = id;
  renderCenter();
  const pane = panes.get(id);
  if (pane.scrollTop !== null && !pane.conv.pinned) pane.messages.scrollTop = pane.scrollTop;
  else pane.conv.scrollToBottom();
  markActiveRead();
  renderSessions();
  renderVisitor();
  scheduleQuickReplies();
  kbAssist.scheduleAssist();
  if (!pane.ended) pane.composer.input.focus();
}

function renderCenter() {
  const pane = panes.get(activeId);
  for (const p of panes.values()) {
    p.tab.classList.toggle("is-active", p === pane);
    p.tab.setAttribute("aria-selected", String(p === pane));
    p.renderAlerts();
  }
  $("panes").replaceChildren(...(pane ? [pane.el] : []));
  $("no-pane").hidden = Boolean(pane);
  $("tabs").hidden = panes.size === 0;
  if (!pane) {
    renderVisitor();
    renderSessions();
    kbAssist.scheduleAssist();
  }
}

document.addEventListener("visibilitychange", markActiveRead);

// ---- visitor panel -------------------------------------------------------------------------------

let visitorRequest = 0;
let visitorHistory = { sessionId: null, items: null };

function renderVisitor() {
  const body = $("visitor-body");
  const pane = panes.get(activeId);
  if (!pane) {
    body.replaceChildren(tr("visitor.empty", "p", { class: "list__empty" }));
    return;
  }
  const s = pane.session;
  const page = safeUrl(s.page);
  const row = (key, value) => el("div", { class: "kv" }, tr(key, "dt"), el("dd", {}, value));
  const history = el("ul", { class: "history" });
  body.replaceChildren(
    el(
      "dl",
      { class: "kvs" },
      row("visitor.id", el("span", { class: "mono", text: s.visitor_id || "" })),
      row("visitor.channel", t(`channel.${s.channel}`)),
      row("visitor.group", groupName(s.group_id)),
      row("visitor.page", page ? el("a", { href: page, target: "_blank", rel: "noopener noreferrer", text: s.page }) : s.page || ""),
      row("visitor.created", formatTime(s.created_at)),
    ),
    tr("visitor.history", "h3", { class: "history__title" }),
    history,
  );
  const fill = (items) => {
    if (items.length) history.replaceChildren(...items.map((h) => historyItem(h, s.session_id)));
    else history.replaceChildren(tr("visitor.noHistory", "li", { class: "list__empty" }));
  };
  // Session updates re-render the panel often; past sessions are fetched once per opened session.
  if (visitorHistory.sessionId === s.session_id && visitorHistory.items) {
    fill(visitorHistory.items);
    return;
  }
  if (!s.visitor_id) return;
  const request = ++visitorRequest;
  api
    .get(`/visitors/${encodeURIComponent(s.visitor_id)}/sessions`)
    .then((data) => {
      if (request !== visitorRequest) return;
      visitorHistory = { sessionId: s.session_id, items: data?.items || [] };
      fill(visitorHistory.items);
    })
    .catch((e) => {
      if (request === visitorRequest) history.replaceChildren(el("li", { class: "list__empty", text: errorText(e) }));
    });
}

function historyItem(h, currentId) {
  const rating = h.rating;
  const stars = rating?.stars ? "★".repeat(rating.stars) + "☆".repeat(5 - rating.stars) : "";
  return el(
    "li",
    { class: `history__item${h.session_id === currentId ? " is-current" : ""}` },
    el(
      "div",
      { class: "history__top" },
      el("time", { text: formatTime(h.created_at) }),
      statusTag(h.status),
      h.session_id === currentId ? tr("visitor.current", "span", { class: "tag" }) : null,
    ),
    el(
      "div",
      { class: "history__meta" },
      h.agent_name ? el("span", { text: h.agent_name }) : null,
      h.group_id ? el("span", { text: groupName(h.group_id) }) : null,
      stars ? el("span", { class: "stars", text: stars }) : null,
      rating && typeof rating.solved === "boolean" ? tr(rating.solved ? "visitor.solved" : "visitor.unsolved", "span") : null,
    ),
  );
}

// ---- quick replies -------------------------------------------------------------------------------

let quickRequest = 0;

function scheduleQuickReplies() {
  clearTimeout(quickTimer);
  quickTimer = setTimeout(loadQuickReplies, QUICK_DEBOUNCE_MS);
}

async function loadQuickReplies() {
  // Ranked by the server against what the agent typed, else the customer's last words.
  const q = $("quick-search").value.trim() || panes.get(activeId)?.conv.lastOtherText || "";
  const request = ++quickRequest;
  const list = $("quick-list");
  try {
    const data = await api.get("/agent/quick-replies", { q });
    if (request !== quickRequest) return;
    const items = data?.items || [];
    if (!items.length) list.replaceChildren(tr("a.quick.empty", "li", { class: "list__empty" }));
    else list.replaceChildren(...items.map(quickItem));
  } catch (e) {
    if (request === quickRequest && e.status !== 401) list.replaceChildren(el("li", { class: "list__empty", text: errorText(e) }));
  }
}

function quickItem(item) {
  const btn = el(
    "button",
    { type: "button", class: "quick", "data-testid": "quick-reply-item", title: item.text },
    el(
      "span",
      { class: "quick__top" },
      el("span", { class: "quick__title", text: item.title || "" }),
      item.scope ? tr(item.scope === "personal" ? "scope.personal" : "scope.store", "span", { class: "tag tag--muted" }) : null,
    ),
    el("span", { class: "quick__text", text: item.text || "" }),
  );
  btn.addEventListener("click", () => {
    const pane = panes.get(activeId);
    if (!pane || pane.ended) {
      toast(t("a.openPaneFirst"));
      return;
    }
    pane.composer.insert(item.text || "");
  });
  return el("li", {}, btn);
}

$("quick-search").addEventListener("input", scheduleQuickReplies);

$("quick-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const title = $("quick-title").value.trim();
  const text = $("quick-text").value.trim();
  const keywords = $("quick-keywords")
    .value.split(/[,，、;；\s]+/)
    .map((k) => k.trim())
    .filter(Boolean);
  const error = $("quick-error");
  if (!title || !text) {
    error.textContent = t("err.validation_error");
    return;
  }
  try {
    await api.post("/agent/quick-replies", { title, text, keywords });
    error.textContent = "";
    ev.target.reset();
    $("quick-add").open = false;
    toast(t("a.quick.saved"), "success");
    loadQuickReplies();
  } catch (e) {
    error.textContent = errorText(e);
  }
});

// ---- transfer ------------------------------------------------------------------------------------

function transferMode() {
  return document.querySelector("input[name=transfer-mode]:checked").value;
}

function renderTransferMode() {
  const mode = transferMode();
  $("transfer-agent-field").hidden = mode !== "agent";
  $("transfer-group-field").hidden = mode !== "group";
}

function renderTransferAgents() {
  const select = $("transfer-agent");
  const others = transferAgents.filter((a) => a.agent_id !== me().id);
  if (!others.length) {
    select.replaceChildren(el("option", { value: "", text: t("transfer.noAgents") }));
    return;
  }
  select.replaceChildren(
    ...others.map((a) =>
      el("option", {
        value: a.agent_id,
        text: `${a.name} · ${t(`status.${a.status}`)} · ${t("transfer.load", { a: a.active_count ?? 0, c: a.capacity ?? "-" })}`,
      }),
    ),
  );
  // Preselect the first agent who can take the chat now.
  const ready = others.find((a) => a.status === "online" && (a.active_count ?? 0) < (a.capacity ?? Infinity));
  if (ready) select.value = ready.agent_id;
}

function renderTransferGroups() {
  $("transfer-group").replaceChildren(...[...groups].map(([id, name]) => el("option", { value: id, text: name || id })));
}

async function openTransfer(pane) {
  transferPane = pane;
  $("transfer-reason").value = "";
  $("transfer-error").textContent = "";
  renderTransferGroups();
  transferAgents = [];
  renderTransferAgents();
  $("transfer-dialog").showModal();
  try {
    const [agentsData, groupsData] = await Promise.all([api.get("/agents"), api.get("/groups")]);
    transferAgents = agentsData?.items || [];
    for (const g of groupsData?.items || []) groups.set(g.group_id, g.name);
    renderTransferAgents();
    renderTransferGroups();
  } catch (e) {
    $("transfer-error").textContent = errorText(e);
  }
  $("transfer-reason").focus();
}

for (const radio of document.querySelectorAll("input[name=transfer-mode]")) radio.addEventListener("change", renderTransferMode);
$("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
$("transfer-reason").addEventListener("input", () => {
  $("transfer-error").textContent = "";
});

$("transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("transfer-error");
  const reason = $("transfer-reason").value.trim();
  const mode = transferMode();
  const target = mode === "agent" ? $("transfer-agent").value : $("transfer-group").value;
  if (!target) {
    error.textContent = t("transfer.needTarget");
    return;
  }
  if (!reason) {
    error.textContent = t("transfer.needReason");
    $("transfer-reason").focus();
    return;
  }
  const body = mode === "agent" ? { to_agent_id: target, reason } : { to_group_id: target, reason };
  const submit = $("transfer-submit");
  submit.disabled = true;
  try {
    await api.post(sessionPath(transferPane.id, "/transfer"), body);
    $("transfer-dialog").close();
    dropSession(transferPane.id);
    transferPane.close();
    toast(t("a.transferred"), "success");
  } catch (e) {
    error.textContent = errorText(e);
  } finally {
    submit.disabled = false;
  }
});

// ---- language and boot ---------------------------------------------------------------------------

$("lang-switch").addEventListener("click", toggleLang);
onLangChange(() => {
  renderMe();
  renderQueue();
  renderSessions();
  renderVisitor();
  renderTransferAgents();
  tickets.relabel();
  kb.relabel();
  kbAssist.relabel();
  for (const pane of panes.values()) {
    translateTree(pane.el);
    translateTree(pane.tab);
    pane.update(pane.session);
    pane.renderAlerts();
  }
});

bindPage();
if (cfg.storeName) $("store-name").textContent = cfg.storeName;
if (auth) startWorkspace(false);
else showLogin();
