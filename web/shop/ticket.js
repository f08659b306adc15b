// The ticket link page (/shop/ticket.html?id=...&key=...): a customer's ticket and its public timeline,
// without signing in. The key in the link is the only credential; the server returns public data only.
import { Api } from "../common/api.js";
import { el } from "../common/chat.js";
import { bindPage, errorText, formatTime, onLangChange, t, toggleLang } from "../common/i18n.js";
import { eventItem, label, mergeEvents, shortTicketId, statusTag, typeTag } from "../common/tickets.js";

const cfg = window.SHOPDESK_CONFIG || {};
const $ = (id) => document.getElementById(id);
const api = new Api({ baseUrl: cfg.apiUrl, getToken: () => null });
const params = new URLSearchParams(location.search);
const ticketId = params.get("id");
const key = params.get("key");
let data = null;

function showError(text) {
  $("link-error").textContent = text;
  $("link-error").hidden = false;
  $("link-ticket").hidden = true;
}

function render() {
  if (!data?.ticket) return;
  const tk = data.ticket;
  $("link-ticket").hidden = false;
  $("link-ticket").dataset.status = tk.status;
  $("link-title").textContent = t("tk.id", { id: shortTicketId(tk.ticket_id) });
  $("link-tags").replaceChildren(statusTag(tk.status, { "data-testid": "link-status" }), typeTag(tk.type));
  const row = (k, value) => el("div", { class: "tl-kv" }, el("dt", { text: t(k) }), el("dd", { text: value }));
  $("link-fields").replaceChildren(
    row("tk.d.status", label("status", tk.status)),
    row("tk.d.type", label("type", tk.type)),
    tk.order_number ? row("tk.d.order", tk.order_number) : "",
    row("tk.d.createdAt", formatTime(tk.created_at)),
  );
  $("link-description").textContent = tk.description || "";
  const events = mergeEvents([], data.timeline || []);
  $("link-timeline").replaceChildren(
    ...(events.length
      ? events.map((ev) => eventItem(ev, { testId: "link-event", showVisibility: false }))
      : [el("li", { class: "tl-empty", text: t("w.tk.noEvents") })]),
  );
}

async function load() {
  if (!ticketId || !key) {
    showError(t("link.missing"));
    return;
  }
  try {
    data = await api.get(`/ticket-link/${encodeURIComponent(ticketId)}`, { key }, { auth: false });
    render();
  } catch (e) {
    showError([401, 403, 404].includes(e.status) ? t("link.missing") : errorText(e));
  }
}

$("lang-switch").addEventListener("click", toggleLang);
onLangChange(() => {
  document.title = `${t("link.title")} - ShopDesk`;
  if (data) render();
  else if (!$("link-error").hidden) load();
});
bindPage();
document.title = `${t("link.title")} - ShopDesk`;
if (cfg.storeName) $("store-name").textContent = cfg.storeName;
load();
