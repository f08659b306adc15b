// Supervisor dashboard (leaders and admins): the shop's figures beside yesterday's, each group with its
// agents and its bot, red alerts, the elevator, today's trend, dispatch (suspend, resume, change group),
// the bot's reception mode and first questions, the audit of dispatch actions and the alert settings.
// Live: the workspace's WebSocket brings {"type": "monitor", "snapshot"} frames; a poll is the fallback.
import { Api } from "../common/api.js";
import { el, icon, toast, tr } from "../common/chat.js";
import { bindPage, errorText, formatTime, has, onLangChange, t, toggleLang } from "../common/i18n.js";
import { AUTH_KEY, NOTICE_KEY, bindLoginForm, loadAuth, showLoginNotice } from "../common/login.js";
import { ChatSocket } from "../common/ws.js";
import { DASH, clock, formatFigure } from "./format.js";
import { AlertSettings } from "./settings.js";
import { Trend } from "./trend.js";

const cfg = window.SHOPDESK_CONFIG || {};
// The workspace's login: a leader who came from the workspace is already signed in here.
const POLL_MS = 60000;
const AUDIT_LIMIT = 20;
const MAX_FIRST_QUESTIONS = 8;
const MODES = ["off", "bot_first", "human_first"];
const STATES = ["busy", "normal"];
const TODAY_FIGURES = ["receptions", "guided_amount_cents", "guided_buyers", "inquiring_buyers", "conversion_rate"];
const NOW_FIGURES = ["avg_response_seconds", "pending", "pending_per_agent", "online", "suspended"];

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

function me() {
  return auth?.user || {};
}

function isLead() {
  const roles = me().roles || [];
  return roles.includes("leader") || roles.includes("admin");
}

function list(v) {
  return Array.isArray(v) ? v : [];
}

// ---- state ---------------------------------------------------------------------------------------

let snapshot = null;
let loadingSnapshot = false;
const selected = new Set(); // agent ids ticked for a dispatch action
const groupNames = new Map(); // every group of the store, from /groups (the snapshot's come first)
let audit = { items: [], cursor: null, error: "", loaded: false };
let firstQuestions = [];
let botMode = null;
let dispatchOutcome = null; // {kind: ok|partial|error, text, failures: [{agent_id, message}]}
let pollTimer = null;
let dispatching = false;
let currentGroup = null; // the group the elevator last went to

function chosenGroups() {
  return [...$("dispatch-group-select").querySelectorAll("input:checked")].map((x) => x.value);
}

const trend = new Trend({ api, host: $("trend-chart") });
const settings = new AlertSettings({
  api,
  groups: () => allGroups(),
  toast,
  // New thresholds apply at the next computation: ask for it now, so the page shows them at once.
  onSaved: () => refresh({ quiet: true }),
});

function groups() {
  return list(snapshot?.groups);
}

function allGroups() {
  const out = new Map(groups().map((g) => [g.group_id, g.name || g.group_id]));
  for (const [id, name] of groupNames) if (!out.has(id)) out.set(id, name || id);
  return [...out].map(([group_id, name]) => ({ group_id, name }));
}

// A leader moves agents only into their own groups (the server says so too); an admin anywhere.
function dispatchGroups() {
  const roles = me().roles || [];
  const own = me().group_ids;
  if (roles.includes("admin") || !Array.isArray(own)) return allGroups();
  return allGroups().filter((g) => own.includes(g.group_id));
}

function groupName(id) {
  return groups().find((g) => g.group_id === id)?.name || groupNames.get(id) || id || "";
}

function agentName(id) {
  for (const g of groups()) {
    const a = list(g.agents).find((x) => x.agent_id === id);
    if (a) return a.name || id;
  }
  return null;
}

function byFigure(alerts) {
  const m = new Map();
  for (const a of list(alerts)) if (a?.figure && !m.has(a.figure)) m.set(a.figure, a);
  return m;
}

function groupAlertCount(g) {
  return list(g.alerts).length + list(g.agents).reduce((n, a) => n + list(a.alerts).length, 0);
}

function groupState(g) {
  return STATES.includes(g.state) ? g.state : "absent";
}

function thresholdText(figure, alert) {
  return t("m.overThreshold", { v: formatFigure(figure, alert.value), th: formatFigure(figure, alert.threshold) });
}

// ---- login / logout ------------------------------------------------------------------------------

let loggingOut = false;

function logout(noticeKey) {
  if (loggingOut) return;
  loggingOut = true;
  socket.stop();
  sessionStorage.removeItem(AUTH_KEY);
  if (noticeKey) sessionStorage.setItem(NOTICE_KEY, noticeKey);
  location.reload();
}

function showLogin() {
  $("login-view").hidden = false;
  $("monitor").hidden = true;
  $("me").hidden = true;
  showLoginNotice();
}

bindLoginForm(api, (signedIn) => {
  auth = signedIn;
  start();
});

$("logout").addEventListener("click", () => logout());

function renderMe() {
  const user = me();
  const name = user.name || user.username || "";
  $("me-name").textContent = name;
  $("me-avatar").textContent = name.slice(0, 1);
  const roles = user.roles || [];
  const main = ["admin", "leader", "agent"].find((r) => roles.includes(r));
  $("me-role").textContent = main ? t(`role.${main}`) : "";
  $("me-role").hidden = !main;
}

function denyAccess() {
  socket.stop();
  clearInterval(pollTimer);
  $("monitor").hidden = true;
  $("elevator").hidden = true;
  $("conn").hidden = true;
  $("no-access").hidden = false;
}

function start() {
  $("login-view").hidden = true;
  $("me").hidden = false;
  renderMe();
  if (!isLead()) {
    denyAccess();
    return;
  }
  $("monitor").hidden = false;
  $("elevator").hidden = false;
  $("conn").hidden = false;
  renderAll();
  loadSnapshot();
  loadGroups();
  loadAudit();
  loadBot();
  trend.load(true);
  socket.start();
  pollTimer = setInterval(loadSnapshot, POLL_MS);
}

// ---- snapshot: load, refresh, live ---------------------------------------------------------------

function isOlder(a, b) {
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Number.isFinite(x) && Number.isFinite(y) && x < y;
}

function showSnapshotError(text) {
  $("snapshot-error").textContent = text || "";
  $("snapshot-error").hidden = !text;
}

// force: the answer to this page's own action (dispatch, refresh), newer than anything before it.
function applySnapshot(snap, { force = false } = {}) {
  if (!snap || typeof snap !== "object" || !snap.shop) return;
  if (!force && snapshot && isOlder(snap.as_of, snapshot.as_of)) return;
  const changed = snap.as_of !== snapshot?.as_of;
  snapshot = snap;
  showSnapshotError("");
  renderAll();
  if (changed) trend.load();
}

async function loadSnapshot() {
  if (!auth || loadingSnapshot) return;
  loadingSnapshot = true;
  try {
    const snap = await api.get("/monitor/snapshot");
    if (snap?.shop) applySnapshot(snap);
    // Nothing computed yet (a new store, or the first minutes of a stack): compute one now.
    else if (!snapshot) await refresh({ quiet: true });
  } catch (e) {
    if (e.status === 403) denyAccess();
    else if (e.status === 404 && !snapshot) await refresh({ quiet: true });
    else if (e.status !== 401) showSnapshotError(errorText(e));
  } finally {
    loadingSnapshot = false;
  }
}

let refreshing = false;

async function refresh({ quiet = false } = {}) {
  if (refreshing) return;
  refreshing = true;
  const btn = $("monitor-refresh");
  btn.disabled = true;
  btn.dataset.i18n = "m.refreshing";
  btn.textContent = t("m.refreshing");
  try {
    applySnapshot(await api.post("/monitor/refresh"), { force: true });
    trend.load(true);
    if (!quiet) toast(t("m.refreshed"), "success");
  } catch (e) {
    if (e.status === 403) denyAccess();
    else if (e.status !== 401) {
      showSnapshotError(errorText(e));
      if (!quiet) toast(errorText(e), "error");
    }
  } finally {
    refreshing = false;
    btn.disabled = false;
    btn.dataset.i18n = "m.refresh";
    btn.textContent = t("m.refresh");
  }
}

$("monitor-refresh").addEventListener("click", () => refresh());
$("alerts-open").addEventListener("click", () => settings.open());

async function loadGroups() {
  try {
    const data = await api.get("/groups");
    for (const g of list(data?.items)) groupNames.set(g.group_id, g.name);
    renderDispatch();
  } catch {
    // The snapshot's groups are offered instead.
  }
}

const socket = new ChatSocket({
  getUrl: async () => {
    if (!auth || auth.expires_at <= Date.now()) {
      logout("a.login.expired");
      throw new Error("signed out");
    }
    return `${cfg.wsUrl}?token=${encodeURIComponent(auth.token)}`;
  },
  api,
  tracked: () => [],
  onFrame: (frame) => {
    if (frame.type === "monitor" && frame.snapshot) applySnapshot(frame.snapshot);
  },
  onState: renderConn,
  // Frames sent while the socket was down are lost: read the latest snapshot instead.
  onOpen: (reconnected) => {
    if (reconnected) loadSnapshot();
  },
  onConnectFailed: (count) => {
    if (count >= 3) api.get("/me").catch(() => {});
  },
});

function renderConn(state = socket.state) {
  const conn = $("conn");
  const key = { open: "m.conn.open", connecting: "a.conn.connecting", closed: "a.conn.closed" }[state] || "a.conn.connecting";
  conn.dataset.state = state;
  conn.textContent = t(key);
}

// ---- rendering -----------------------------------------------------------------------------------

function renderAll() {
  renderAsOf();
  renderShop();
  renderAlertList();
  renderGroups();
  renderElevator();
  renderDispatch();
}

function renderAsOf() {
  const node = $("as-of");
  const at = snapshot?.as_of;
  node.dataset.asOf = at || "";
  node.textContent = t("m.asOf", { t: at ? clock(at) : DASH });
  node.title = at ? new Date(at).toLocaleString() : "";
  $("shop-day").textContent = snapshot?.day || "";
}

function figure(name, value, { alert, yesterday, withYesterday = false, testPrefix = "figure" } = {}) {
  return el(
    "div",
    {
      class: "mon-fig",
      "data-testid": `${testPrefix}-${name}`,
      "data-figure": name,
      "data-alert": alert ? "true" : "false",
      title: alert ? thresholdText(name, alert) : null,
    },
    el("span", { class: "mon-fig__label", text: t(`m.f.${name}`) }),
    el("b", { class: "mon-fig__value", "data-testid": "figure-value", text: formatFigure(name, value) }),
    withYesterday ? el("span", { class: "mon-fig__prev", "data-testid": "figure-yesterday", text: t("m.yesterday", { v: yesterday === undefined ? DASH : formatFigure(name, yesterday) }) }) : null,
    alert ? el("span", { class: "mon-fig__limit", "data-testid": "figure-threshold", text: t("m.threshold", { v: formatFigure(name, alert.threshold) }) }) : null,
  );
}

function renderShop() {
  const shop = snapshot?.shop || {};
  const today = shop.today || {};
  const yesterday = shop.yesterday && typeof shop.yesterday === "object" ? shop.yesterday : null;
  const now = shop.now || {};
  const alerts = byFigure(shop.alerts);
  $("shop-figures").dataset.alert = String(Boolean(shop.alerting || alerts.size));
  $("figs-today").replaceChildren(
    ...TODAY_FIGURES.map((name) => figure(name, today[name], { alert: alerts.get(name), yesterday: yesterday ? yesterday[name] : undefined, withYesterday: true })),
  );
  $("figs-now").replaceChildren(...NOW_FIGURES.map((name) => figure(name, now[name], { alert: alerts.get(name) })));
}

// Every red figure: the shop's, each group's and each agent's (under the group whose settings raised it).
function allAlerts() {
  const out = [];
  for (const a of list(snapshot?.shop?.alerts)) out.push({ ...a, scope: "shop", where: t("m.scope.shop") });
  for (const g of groups()) {
    const gname = g.name || g.group_id;
    for (const a of list(g.alerts)) out.push({ ...a, scope: "group", groupId: g.group_id, where: gname });
    for (const agent of list(g.agents)) {
      for (const a of list(agent.alerts)) out.push({ ...a, scope: "agent", groupId: g.group_id, agentId: agent.agent_id, where: `${gname} · ${agent.name || agent.agent_id}` });
    }
  }
  return out;
}

function renderAlertList() {
  const items = allAlerts();
  const node = $("alert-list");
  $("alert-count").textContent = String(items.length);
  $("alert-count").classList.toggle("count--danger", items.length > 0);
  if (!items.length) {
    node.replaceChildren(el("li", { class: "mon-alerts__empty", "data-testid": "alert-empty", text: snapshot ? t("m.alertList.empty") : t("tk.loading") }));
    return;
  }
  node.replaceChildren(
    ...items.map((a) => {
      const btn = el(
        "button",
        { type: "button", class: "mon-alert" },
        el("span", { class: "tag tag--alert", text: t(`m.scope.${a.scope}`) }),
        el("span", { class: "mon-alert__where", text: a.where }),
        el("span", { class: "mon-alert__what", text: `${t(`m.f.${a.figure}`)} ${thresholdText(a.figure, a)}` }),
      );
      btn.addEventListener("click", () => (a.groupId ? goToGroup(a.groupId, a.agentId) : $("shop-figures").scrollIntoView({ behavior: "smooth", block: "start" })));
      return el("li", { "data-testid": "alert-item", "data-scope": a.scope, "data-figure": a.figure, "data-subject": a.subject ?? "", "data-group-id": a.groupId || null }, btn);
    }),
  );
}

function cardId(groupId) {
  return `group-${String(groupId).replace(/[^\w-]/g, "_")}`;
}

function renderGroups() {
  const host = $("group-cards");
  if (!snapshot) {
    host.replaceChildren(tr("tk.loading", "p", { class: "list__empty" }));
    return;
  }
  const items = groups();
  if (!items.length) {
    host.replaceChildren(tr("m.groups.empty", "p", { class: "list__empty" }));
    return;
  }
  // Ticks of agents no longer shown are dropped, so a batch action never reaches someone unseen.
  const shown = new Set(items.flatMap((g) => list(g.agents).map((a) => a.agent_id)));
  for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
  // A live update redraws the cards: keep the keyboard where it was.
  const focused = document.activeElement;
  const keep = host.contains(focused)
    ? { group: focused.closest("[data-group-id]")?.dataset.groupId, agent: focused.closest("[data-agent-id]")?.dataset.agentId, testId: focused.dataset.testid }
    : null;
  host.replaceChildren(...items.map(groupCard));
  if (keep?.group && keep.testId) {
    const card = host.querySelector(`[data-testid=group-card][data-group-id="${CSS.escape(keep.group)}"]`);
    const scope = keep.agent ? card?.querySelector(`[data-agent-id="${CSS.escape(keep.agent)}"]`) : card;
    scope?.querySelector(`[data-testid="${CSS.escape(keep.testId)}"]`)?.focus({ preventScroll: true });
  }
}

function groupCard(g) {
  const state = groupState(g);
  const alerts = byFigure(g.alerts);
  const n = groupAlertCount(g);
  const agents = list(g.agents);
  const allTick = el("input", { type: "checkbox", "data-testid": "group-select-all", "aria-label": t("m.selectGroup", { g: g.name || g.group_id }) });
  allTick.checked = agents.length > 0 && agents.every((a) => selected.has(a.agent_id));
  allTick.indeterminate = !allTick.checked && agents.some((a) => selected.has(a.agent_id));
  allTick.disabled = !agents.length;
  allTick.addEventListener("change", () => {
    for (const a of agents) setSelected(a.agent_id, allTick.checked);
  });
  const card = el(
    "section",
    { class: `mon-group mon-group--${state}`, id: cardId(g.group_id), "data-testid": "group-card", "data-group-id": g.group_id, "data-state": state, "data-alerts": String(n), tabindex: -1 },
    el(
      "header",
      { class: "mon-group__head" },
      el("h3", { class: "mon-group__name", "data-testid": "group-name", text: g.name || g.group_id }),
      state === "absent" ? null : el("span", { class: `mon-state mon-state--${state}`, "data-testid": "group-state", text: t(`m.state.${state}`) }),
      n ? el("span", { class: "badge", "data-testid": "group-alert-count", title: t("m.alertCount", { n }), text: String(n) }) : null,
    ),
    el(
      "div",
      { class: "mon-group__figs" },
      figure("pending", g.pending, { alert: alerts.get("pending"), testPrefix: "group-figure" }),
      figure("pending_per_agent", g.pending_per_agent, { alert: alerts.get("pending_per_agent"), testPrefix: "group-figure" }),
      el(
        "div",
        { class: "mon-fig", "data-testid": "group-figure-online", "data-figure": "online", "data-alert": "false" },
        el("span", { class: "mon-fig__label", text: t("m.onlineSuspended") }),
        el("b", { class: "mon-fig__value", "data-testid": "figure-value", text: `${formatFigure("online", g.online)} / ${formatFigure("suspended", g.suspended)}` }),
      ),
    ),
    el(
      "table",
      { class: "mon-agents" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { class: "mon-agents__tick" }, allTick),
          el("th", { text: t("m.col.agent") }),
          el("th", { text: t("m.col.status") }),
          el("th", { class: "num", text: t("m.col.receptions") }),
          el("th", { class: "num", text: t("m.col.pending") }),
          el("th", { class: "num", title: t("m.col.avgHint"), text: t("m.col.avg") }),
        ),
      ),
      el("tbody", {}, ...(agents.length ? agents.map(agentRow) : [el("tr", {}, el("td", { class: "mon-agents__empty", colspan: 6, text: t("m.agents.empty") }))])),
    ),
    botCard(g.bot, alerts.get("bot_transfer_rate")),
  );
  return card;
}

function agentStatus(a) {
  if (a.suspended) return "suspended";
  return a.online ? "online" : "offline";
}

function agentRow(a) {
  const alerts = byFigure(a.alerts);
  const status = agentStatus(a);
  const tick = el("input", { type: "checkbox", value: a.agent_id, "data-testid": "agent-select", "aria-label": t("m.selectAgent", { a: a.name || a.agent_id }) });
  tick.checked = selected.has(a.agent_id);
  tick.addEventListener("change", () => setSelected(a.agent_id, tick.checked));
  const cell = (name, testId) => {
    const alert = alerts.get(name);
    return el("td", { class: "num", "data-testid": testId, "data-alert": alert ? "true" : "false", title: alert ? thresholdText(name, alert) : null, text: formatFigure(name, a[name]) });
  };
  const tagClass = { suspended: "tag tag--warning", online: "tag tag--online", offline: "tag tag--muted" }[status];
  return el(
    "tr",
    { "data-testid": "agent-row", "data-agent-id": a.agent_id, "data-status": status, "data-alert": alerts.size ? "true" : "false", class: selected.has(a.agent_id) ? "is-selected" : null },
    el("td", { class: "mon-agents__tick" }, tick),
    el("td", { class: "mon-agents__name", text: a.name || a.agent_id }),
    el("td", {}, el("span", { class: tagClass, "data-testid": "agent-status", text: t(`m.status.${status}`) })),
    el("td", { class: "num", "data-testid": "agent-receptions", text: formatFigure("receptions", a.receptions) }),
    cell("pending", "agent-pending"),
    cell("avg_response_seconds", "agent-avg-response"),
  );
}

function botCard(bot, alert) {
  const b = bot && typeof bot === "object" ? bot : {};
  const stat = (key, testId, value, attrs = {}) =>
    el("div", { class: "mon-bot__stat", "data-testid": testId, ...attrs }, el("b", { text: value }), el("span", { text: t(key) }));
  return el(
    "div",
    { class: "mon-bot", "data-testid": "bot-card", "data-alert": alert ? "true" : "false" },
    el("div", { class: "mon-bot__head" }, icon("bot"), el("span", { class: "mon-bot__title", text: t("m.bot.card") }), el("span", { class: "mon-bot__note", text: t("m.bot.window") })),
    el(
      "div",
      { class: "mon-bot__stats" },
      stat("m.bot.consults", "bot-consults", formatFigure("receptions", b.consults)),
      stat("m.bot.transfers", "bot-transfers", formatFigure("receptions", b.transfers)),
      stat("m.bot.transferRate", "bot-transfer-rate", formatFigure("bot_transfer_rate", b.transfer_rate), {
        "data-alert": alert ? "true" : "false",
        title: alert ? thresholdText("bot_transfer_rate", alert) : null,
      }),
      stat("m.bot.clicks", "bot-first-question-clicks", formatFigure("receptions", b.first_question_clicks)),
    ),
  );
}

// ---- the elevator --------------------------------------------------------------------------------

function renderElevator() {
  const host = $("elevator-items");
  const items = groups();
  if (!items.length) {
    host.replaceChildren(el("span", { class: "elevator__empty", text: snapshot ? t("m.groups.empty") : t("tk.loading") }));
    return;
  }
  host.replaceChildren(
    ...items.map((g) => {
      const state = groupState(g);
      const n = groupAlertCount(g);
      const btn = el(
        "button",
        {
          type: "button",
          class: `elevator__item elevator__item--${state}${n ? " has-alerts" : ""}${g.group_id === currentGroup ? " is-current" : ""}`,
          "data-testid": "elevator-item",
          "data-group-id": g.group_id,
          "data-state": state,
          "data-alerts": String(n),
          title: state === "absent" ? t("m.state.absent") : t(`m.state.${state}`),
        },
        el("span", { class: "elevator__dot", "aria-hidden": "true" }),
        el("span", { class: "elevator__name", text: g.name || g.group_id }),
        n ? el("span", { class: "badge", "data-testid": "elevator-alerts", text: String(n) }) : null,
      );
      btn.addEventListener("click", () => goToGroup(g.group_id));
      return btn;
    }),
  );
}

function goToGroup(groupId, agentId) {
  const card = document.getElementById(cardId(groupId));
  if (!card) return;
  card.scrollIntoView({ behavior: "smooth", block: "start" });
  card.focus({ preventScroll: true });
  const target = agentId ? card.querySelector(`[data-agent-id="${CSS.escape(agentId)}"]`) || card : card;
  target.classList.remove("is-flash");
  void target.offsetWidth; // restart the animation
  target.classList.add("is-flash");
  currentGroup = groupId;
  for (const item of document.querySelectorAll("[data-testid=elevator-item]")) item.classList.toggle("is-current", item.dataset.groupId === groupId);
}

// ---- dispatch ------------------------------------------------------------------------------------

function setSelected(agentId, on) {
  if (on) selected.add(agentId);
  else selected.delete(agentId);
  // An agent in two groups shows in both cards: one tick, both rows.
  for (const row of document.querySelectorAll(`[data-testid=agent-row][data-agent-id="${CSS.escape(agentId)}"]`)) {
    row.classList.toggle("is-selected", on);
    const tick = row.querySelector("[data-testid=agent-select]");
    if (tick) tick.checked = on;
  }
  for (const card of document.querySelectorAll("[data-testid=group-card]")) {
    const ticks = [...card.querySelectorAll("[data-testid=agent-select]")];
    const all = card.querySelector("[data-testid=group-select-all]");
    if (!all) continue;
    all.checked = ticks.length > 0 && ticks.every((x) => x.checked);
    all.indeterminate = !all.checked && ticks.some((x) => x.checked);
  }
  renderDispatch();
}

function renderDispatch() {
  const n = selected.size;
  $("dispatch-count").textContent = n ? t("m.dispatch.selected", { n }) : t("m.dispatch.hint");
  for (const id of ["dispatch-suspend", "dispatch-resume", "dispatch-change-group", "dispatch-clear"]) $(id).disabled = !n || dispatching;
  // The groups to move the ticked agents to: one chip per group, several may be picked.
  const chips = $("dispatch-group-select");
  const chosen = new Set(chosenGroups());
  chips.replaceChildren(
    ...dispatchGroups().map((g) =>
      el(
        "label",
        { class: "mon-chip" },
        el("input", { type: "checkbox", value: g.group_id, "data-testid": "dispatch-group-option", checked: chosen.has(g.group_id) }),
        el("span", { text: g.name || g.group_id }),
      ),
    ),
  );
  const out = $("dispatch-result");
  out.dataset.kind = dispatchOutcome?.kind || "";
  out.replaceChildren();
  if (dispatchOutcome) {
    out.append(el("span", { text: dispatchOutcome.text }));
    for (const f of dispatchOutcome.failures || []) {
      out.append(el("span", { class: "mon-dispatch__failure", "data-testid": "dispatch-failure", "data-agent-id": f.agent_id, text: `${agentName(f.agent_id) || f.agent_id}：${f.message}` }));
    }
  }
}

async function dispatch(action) {
  const agentIds = [...selected];
  if (!agentIds.length || dispatching) return;
  const body = { action, agent_ids: agentIds };
  if (action === "change_group") {
    const groupIds = chosenGroups();
    if (!groupIds.length) {
      dispatchOutcome = { kind: "error", text: t("m.dispatch.needGroup") };
      renderDispatch();
      $("dispatch-group-select").querySelector("input")?.focus();
      return;
    }
    body.group_ids = groupIds;
  }
  dispatching = true;
  dispatchOutcome = null;
  renderDispatch();
  try {
    const res = await api.post("/monitor/dispatch", body);
    const results = list(res?.results);
    const failures = results.filter((r) => r && r.ok === false).map((r) => ({ agent_id: r.agent_id, message: r.message || (r.code && has(`err.${r.code}`) ? t(`err.${r.code}`) : r.code) || t("err.unknown") }));
    const done = results.filter((r) => r?.ok).map((r) => r.agent_id);
    for (const id of done) selected.delete(id);
    const what = t(`m.action.${action}`);
    dispatchOutcome = failures.length
      ? { kind: done.length ? "partial" : "error", text: t("m.dispatch.partial", { action: what, ok: done.length, failed: failures.length }), failures }
      : { kind: "ok", text: t("m.dispatch.done", { action: what, n: done.length }) };
    toast(dispatchOutcome.text, failures.length ? "error" : "success");
    if (res?.snapshot) applySnapshot(res.snapshot, { force: true });
    else loadSnapshot();
    loadAudit();
  } catch (e) {
    dispatchOutcome = { kind: "error", text: errorText(e) };
    toast(errorText(e), "error");
  } finally {
    dispatching = false;
    renderAll();
  }
}

$("dispatch-suspend").addEventListener("click", () => dispatch("suspend"));
$("dispatch-resume").addEventListener("click", () => dispatch("resume"));
$("dispatch-change-group").addEventListener("click", () => dispatch("change_group"));
$("dispatch-clear").addEventListener("click", () => {
  for (const id of [...selected]) setSelected(id, false);
  dispatchOutcome = null;
  renderDispatch();
});

// ---- audit ---------------------------------------------------------------------------------------

async function loadAudit(more = false) {
  try {
    const data = await api.get("/monitor/audit", { limit: AUDIT_LIMIT, cursor: more ? audit.cursor : undefined });
    const items = list(data?.items);
    audit = { items: more ? [...audit.items, ...items] : items, cursor: data?.next_cursor || null, error: "", loaded: true };
  } catch (e) {
    if (e.status === 401) return;
    audit = { ...audit, error: errorText(e), loaded: true };
  }
  renderAudit();
}

function actionLabel(action) {
  return has(`m.action.${action}`) ? t(`m.action.${action}`) : String(action || "");
}

// The token may carry no name: the actor is then found among the agents, or is this user.
function actorLabel(actor) {
  if (!actor || typeof actor !== "object") return String(actor ?? "");
  if (actor.name) return actor.name;
  if (actor.id && actor.id === me().id) return me().name || me().username || actor.id;
  return agentName(actor.id) || (actor.role && has(`role.${actor.role}`) ? t(`role.${actor.role}`) : actor.id || "");
}

function targetLabel(target) {
  if (target && typeof target === "object") return target.name || target.id || "";
  const id = String(target ?? "");
  return agentName(id) || (groupNames.has(id) || groups().some((g) => g.group_id === id) ? groupName(id) : id);
}

function detailsText(details) {
  if (details === null || details === undefined || details === "") return "";
  if (typeof details !== "object") return String(details);
  const parts = [];
  for (const [key, value] of Object.entries(details)) {
    if (value === null || value === undefined || value === "") continue;
    if (/group_ids$/.test(key) || key === "groups") {
      const names = list(value).map(groupName).join("、") || DASH;
      parts.push(has(`m.audit.${key}`) ? t(`m.audit.${key}`, { v: names }) : `${key}: ${names}`);
    } else if (key === "ok") {
      if (value === false) parts.push(t("m.audit.failed"));
    } else if (key === "version") {
      parts.push(t("m.audit.version", { v: value }));
    } else if (key === "mode" && MODES.includes(value)) {
      parts.push(t(`kb.mode.${value}`));
    } else {
      const text = Array.isArray(value) ? value.join("、") : typeof value === "object" ? JSON.stringify(value) : String(value);
      parts.push(`${key}: ${text}`);
    }
  }
  return parts.join(" · ");
}

function renderAudit() {
  const node = $("audit-list");
  $("audit-more").hidden = !audit.cursor;
  const rows = audit.items.map((item) =>
    el(
      "li",
      { class: "mon-audit__item", "data-testid": "audit-item", "data-action": item.action || "" },
      el(
        "div",
        { class: "mon-audit__top" },
        el("time", { class: "mon-audit__time", datetime: item.at || null, text: formatTime(item.at) }),
        el("span", { class: "mon-audit__actor", "data-testid": "audit-actor", text: actorLabel(item.actor) }),
        el("span", { class: "tag", "data-testid": "audit-action", text: actionLabel(item.action) }),
        el("span", { class: "mon-audit__target", "data-testid": "audit-target", text: String(item.action || "").startsWith("alerts.") ? t("m.alerts.title") : targetLabel(item.target) }),
      ),
      (() => {
        const text = detailsText(item.details);
        return text ? el("p", { class: "mon-audit__details", text }) : null;
      })(),
    ),
  );
  if (audit.error) rows.unshift(el("li", { class: "list__empty list__error", text: audit.error }));
  if (!rows.length) rows.push(el("li", { class: "list__empty", text: audit.loaded ? t("m.audit.empty") : t("tk.loading") }));
  node.replaceChildren(...rows);
}

$("audit-refresh").addEventListener("click", () => loadAudit());
$("audit-more").addEventListener("click", () => loadAudit(true));

// ---- the bot: reception mode and first questions -------------------------------------------------

function loadBot() {
  loadBotMode();
  loadFirstQuestions();
}

async function loadBotMode() {
  const select = $("bot-mode-select");
  try {
    const s = await api.get("/bot/settings");
    if (MODES.includes(s?.mode)) select.value = botMode = s.mode;
  } catch (e) {
    if (e.status !== 401) $("bot-mode-error").textContent = errorText(e);
  }
}

$("bot-mode-select").addEventListener("change", async (ev) => {
  const select = ev.target;
  const mode = select.value;
  $("bot-mode-error").textContent = "";
  select.disabled = true;
  try {
    const saved = await api.put("/bot/settings", { mode });
    botMode = MODES.includes(saved?.mode) ? saved.mode : mode;
    select.value = botMode;
    toast(t("m.bot.modeSaved", { m: t(`kb.mode.${botMode}`) }), "success");
  } catch (e) {
    if (botMode) select.value = botMode;
    $("bot-mode-error").textContent = errorText(e);
  } finally {
    select.disabled = false;
  }
});

async function loadFirstQuestions() {
  try {
    const data = await api.get("/bot/first-questions");
    firstQuestions = list(data?.items).map((q) => ({ id: q.id, text: q.text || "", entry_id: q.entry_id || "", clicks: q.clicks ?? 0 }));
    $("fq-error").textContent = "";
  } catch (e) {
    if (e.status !== 401) $("fq-error").textContent = errorText(e);
  }
  renderFirstQuestions();
}

// What is typed in the rows, back into firstQuestions (before a re-render or a save).
function readFirstQuestions() {
  firstQuestions = [...$("fq-list").querySelectorAll("[data-testid=fq-item]")].map((row) => ({
    ...firstQuestions[Number(row.dataset.index)],
    text: row.querySelector("[data-testid=fq-text]").value,
    entry_id: row.querySelector("[data-testid=fq-entry]").value.trim(),
  }));
}

function renderFirstQuestions() {
  const host = $("fq-list");
  $("fq-add").disabled = firstQuestions.length >= MAX_FIRST_QUESTIONS;
  if (!firstQuestions.length) {
    host.replaceChildren(tr("kb.fq.empty", "li", { class: "list__empty" }));
    return;
  }
  host.replaceChildren(
    ...firstQuestions.map((q, i) => {
      const remove = el("button", { type: "button", class: "btn btn--sm btn--ghost btn--danger", "data-testid": "fq-remove", "aria-label": t("kb.fq.remove"), title: t("kb.fq.remove"), text: "✕" });
      remove.addEventListener("click", () => {
        readFirstQuestions();
        firstQuestions.splice(i, 1);
        renderFirstQuestions();
      });
      return el(
        "li",
        { class: "mon-fq__row", "data-testid": "fq-item", "data-index": i, "data-id": q.id || "" },
        el("span", { class: "mon-fq__n", text: String(i + 1) }),
        el("input", { class: "input input--sm", maxlength: 50, value: q.text, "data-testid": "fq-text", "aria-label": t("kb.fq.text"), placeholder: t("kb.fq.text") }),
        el("input", { class: "input input--sm mono", maxlength: 64, value: q.entry_id || "", "data-testid": "fq-entry", "aria-label": t("kb.fq.entry"), placeholder: t("m.fq.entry") }),
        el("span", { class: "mon-fq__clicks", "data-testid": "fq-clicks", text: t("kb.fq.clicks", { n: q.clicks ?? 0 }) }),
        remove,
      );
    }),
  );
}

$("fq-add").addEventListener("click", () => {
  readFirstQuestions();
  if (firstQuestions.length >= MAX_FIRST_QUESTIONS) return;
  firstQuestions.push({ text: "", entry_id: "", clicks: 0 });
  renderFirstQuestions();
  $("fq-list").querySelector("li:last-child [data-testid=fq-text]")?.focus();
});

$("fq-save").addEventListener("click", async () => {
  const error = $("fq-error");
  error.textContent = "";
  readFirstQuestions();
  const items = firstQuestions.map((q) => ({ ...q, text: q.text.trim() }));
  if (items.some((q) => !q.text)) {
    error.textContent = t("kb.fq.needText");
    return;
  }
  if (items.length > MAX_FIRST_QUESTIONS) {
    error.textContent = t("kb.fq.tooMany", { n: MAX_FIRST_QUESTIONS });
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
  const btn = $("fq-save");
  btn.disabled = true;
  try {
    const saved = await api.put("/bot/first-questions", body);
    if (Array.isArray(saved?.items)) firstQuestions = saved.items.map((q) => ({ id: q.id, text: q.text || "", entry_id: q.entry_id || "", clicks: q.clicks ?? 0 }));
    renderFirstQuestions();
    toast(t("kb.fq.saved"), "success");
  } catch (e) {
    const field = e?.body?.details?.field ?? e?.body?.field;
    error.textContent = field ? `${field}: ${e.message || errorText(e)}` : errorText(e);
  } finally {
    btn.disabled = false;
  }
});

// ---- language and boot ---------------------------------------------------------------------------

$("lang-switch").addEventListener("click", toggleLang);
onLangChange(() => {
  renderMe();
  renderConn();
  renderAll();
  renderAudit();
  readFirstQuestions();
  renderFirstQuestions();
  trend.relabel();
  settings.relabel();
});

bindPage();
document.title = `${t("m.title")} - ShopDesk`;
onLangChange(() => (document.title = `${t("m.title")} - ShopDesk`));
if (cfg.storeName) $("store-name").textContent = cfg.storeName;
renderAudit();
renderFirstQuestions();
if (auth) start();
else showLogin();
