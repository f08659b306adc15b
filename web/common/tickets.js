// Ticket vocabulary, SLA countdowns and timeline rendering shared by the agent workspace, the widget
// and the ticket link page. Text only ever enters the DOM through el() (text nodes and attributes).
import { el, safeUrl, tr } from "./chat.js";
import { formatTime, t } from "./i18n.js";

export const TYPES = ["complaint", "suggestion", "after_sales", "logistics", "technical", "other"];
export const PRIORITIES = ["low", "normal", "high", "urgent"];
export const STATUSES = ["new", "processing", "pending", "transferred", "resolved", "closed"];
export const SLA_FILTERS = ["on_track", "at_risk", "breached"];
export const MAX_DESCRIPTION = 4000;

export function ticketPath(ticketId, suffix = "") {
  return `/tickets/${encodeURIComponent(ticketId)}${suffix}`;
}

export function shortTicketId(id) {
  const s = String(id || "");
  return s.length > 8 ? s.slice(-6).toUpperCase() : s.toUpperCase();
}

// "tk.status.new" and the like; an unknown value shows as itself rather than as a missing key.
export function label(kind, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `tk.${kind}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

// A tag that follows language switches: the key lives in data-i18n (see translateTree).
function keyedTag(kind, value, cls, attrs = {}) {
  const key = `tk.${kind}.${value}`;
  return el("span", { ...attrs, class: cls, "data-i18n": t(key) === key ? null : key, text: label(kind, value) });
}

export function statusTag(status, attrs = {}) {
  return keyedTag("status", status, `sd-tk-tag sd-tk-status sd-tk-status--${status}`, { "data-status": status, ...attrs });
}

export function priorityTag(priority, attrs = {}) {
  return keyedTag("priority", priority, `sd-tk-tag sd-tk-priority sd-tk-priority--${priority}`, { "data-priority": priority, ...attrs });
}

export function typeTag(type, attrs = {}) {
  return keyedTag("type", type, "sd-tk-tag sd-tk-type", { "data-type": type, ...attrs });
}

// ---- SLA countdown ---------------------------------------------------------------------------

function pad(n) {
  return String(n).padStart(2, "0");
}

// 0:04:05, 27:00:00 → 1 d 03:00:00: precise to the second, since it ticks every second.
export function countdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const clock = `${h}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return days ? t("tk.days", { d: days, t: clock }) : clock;
}

// The server's state, upgraded to breached once the due time has passed on this clock (the state
// machine escalates at the due time, so the stored state may lag by a moment).
export function slaState(sla, now = Date.now()) {
  const state = sla?.state || "";
  const due = Date.parse(sla?.next_due_at || "");
  if ((state === "on_track" || state === "at_risk") && !Number.isNaN(due) && due <= now) return "breached";
  return state;
}

export function slaBadge(sla, attrs = {}) {
  const node = el("span", { "data-testid": "ticket-sla", ...attrs, class: "sd-tk-sla" });
  node.dataset.serverState = sla?.state || "";
  if (sla?.next_due_at) node.dataset.due = sla.next_due_at;
  updateSla(node);
  return node;
}

export function updateSla(node) {
  const sla = { state: node.dataset.serverState, next_due_at: node.dataset.due };
  const state = slaState(sla);
  node.dataset.sla = state || "none";
  const due = Date.parse(sla.next_due_at || "");
  if (state === "paused" || state === "met" || !state) {
    node.textContent = state ? label("sla", state) : t("tk.sla.none");
  } else if (Number.isNaN(due)) {
    node.textContent = label("sla", state);
  } else if (due > Date.now()) {
    node.textContent = t("tk.sla.left", { t: countdown((due - Date.now()) / 1000) });
  } else {
    node.textContent = t("tk.sla.over", { t: countdown((Date.now() - due) / 1000) });
  }
  node.title = state ? label("sla", state) : "";
}

export function tickSla(root = document) {
  for (const node of root.querySelectorAll(".sd-tk-sla")) updateSla(node);
}

// ---- timeline --------------------------------------------------------------------------------

function actorName(actor) {
  if (!actor) return t("tk.actor.system");
  if (actor.name) return actor.name;
  if (actor.role === "visitor") return t("tk.actor.visitor");
  if (["agent", "leader", "admin"].includes(actor.role)) return t(`role.${actor.role}`);
  return t("tk.actor.system");
}

function isMessage(ev) {
  return ev.kind === "note" || ev.kind === "reply";
}

// One line that says what happened; groupName maps group ids to names where the event holds ids.
export function eventSummary(ev, groupName = (id) => id) {
  const data = ev.data || {};
  switch (ev.kind) {
    case "created":
      return t("tk.ev.created");
    case "status":
      return t("tk.ev.status", { from: label("status", data.from), to: label("status", data.to) });
    case "assigned": {
      // The backend puts the assignee's name in the event's text.
      const name = data.to_name || data.assignee_name || data.agent_name || data.name || ev.text;
      if (name) return t("tk.ev.assigned", { name });
      return data.to === null || data.agent_id === null ? t("tk.ev.unassigned") : t("tk.ev.assignedNoName");
    }
    case "transferred":
      return t("tk.ev.transferred", {
        from: data.from_group_name || groupName(data.from_group) || "-",
        to: data.to_group_name || groupName(data.to_group) || "-",
      });
    case "edited": {
      const changes = Object.entries(data.changes || data)
        .filter(([, v]) => v && typeof v === "object" && "to" in v)
        .map(([field, v]) => {
          const kind = { priority: "priority", type: "type" }[field];
          const show = (x) => (kind ? label(kind, x) : String(x ?? ""));
          return t("tk.ev.field", { field: t(`tk.d.${field === "order_number" ? "order" : field}`), from: show(v.from), to: show(v.to) });
        });
      return changes.length ? changes.join("；") : t("tk.ev.edited");
    }
    case "note":
      return ev.actor?.role === "visitor" ? t("tk.ev.customerReply") : t(ev.public ? "tk.ev.reply" : "tk.ev.note");
    case "reply":
      return ev.actor?.role === "visitor" ? t("tk.ev.customerReply") : t("tk.ev.reply");
    case "escalated":
      return t("tk.ev.escalated", { level: data.level ?? "?" });
    case "archived":
      return t("tk.ev.archived");
    default:
      return ev.kind || "";
  }
}

/**
 * One timeline entry. Notes and replies carry their text and are marked internal or public
 * (data-public, a class and a visible tag); other events show their summary and any reason.
 */
export function eventItem(ev, { testId = "ticket-event", groupName, showVisibility = true } = {}) {
  const pub = Boolean(ev.public);
  const message = isMessage(ev);
  const cls = ["sd-tk-event", `sd-tk-event--${ev.kind}`];
  if (message) cls.push(pub ? "sd-tk-event--public" : "sd-tk-event--internal");
  if (ev.actor?.role === "visitor") cls.push("sd-tk-event--customer");
  const head = el(
    "div",
    { class: "sd-tk-event__head" },
    el("span", { class: "sd-tk-event__actor", text: actorName(ev.actor) }),
    message ? null : el("span", { class: "sd-tk-event__summary", text: eventSummary(ev, groupName) }),
    message && showVisibility
      ? tr(pub ? "tk.public" : "tk.internal", "span", { class: `sd-tk-tag sd-tk-vis sd-tk-vis--${pub ? "public" : "internal"}`, "data-testid": "ticket-event-visibility" })
      : null,
    el("time", { class: "sd-tk-event__time", datetime: ev.at, text: formatTime(ev.at) }),
  );
  const node = el("li", { class: cls.join(" "), "data-testid": testId, "data-kind": ev.kind, "data-public": String(pub), "data-event-id": ev.event_id }, head);
  // An assignment's text is the assignee (already in the summary); an escalation's is whom it notified.
  if (ev.kind === "escalated") {
    const notify = ev.data?.notify ?? ev.text;
    const named = (x) => (["agent", "leader", "admin"].includes(x) ? t(`role.${x}`) : String(x));
    const who = (Array.isArray(notify) ? notify : notify ? [notify] : []).map(named).join(", ");
    if (who) node.append(el("p", { class: "sd-tk-event__reason", text: t("tk.ev.notify", { who }) }));
  } else if (ev.text && ev.kind !== "assigned") {
    node.append(el("p", { class: message ? "sd-tk-event__text" : "sd-tk-event__reason", text: ev.text }));
  }
  const files = (ev.attachments || []).map((a) => safeUrl(a?.url)).filter(Boolean);
  if (files.length) {
    node.append(
      el(
        "p",
        { class: "sd-tk-event__files" },
        ...files.map((href, i) => el("a", { href, target: "_blank", rel: "noopener noreferrer", text: t("tk.attachment", { n: i + 1 }) })),
      ),
    );
  }
  return node;
}

// Oldest first, deduplicated by event id (a live frame and a reload may both bring one).
export function mergeEvents(existing, incoming) {
  const byId = new Map(existing.map((e) => [e.event_id, e]));
  for (const e of incoming) byId.set(e.event_id, e);
  return [...byId.values()].sort((a, b) => String(a.at).localeCompare(String(b.at)));
}

export function formatDue(iso) {
  return iso ? formatTime(iso) : "—";
}
