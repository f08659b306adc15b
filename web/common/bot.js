// What the bot adds under an answer: "did you mean" suggestions, first-question chips, a handover offer
// and an order card. The widget makes them clickable; the agent workspace shows them as a record.
import { el, icon, tr } from "./chat.js";
import { formatTime, getLang, t } from "./i18n.js";

// The text a handover click sends; the ref carries the intent, the words are what the agent reads.
export const HANDOVER_TEXT = "转人工";

export function formatAmount(cents) {
  const n = Number(cents);
  if (!Number.isFinite(n)) return "";
  return `¥${(n / 100).toLocaleString(getLang(), { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function itemLine(item) {
  if (item === null || item === undefined) return "";
  if (typeof item !== "object") return String(item);
  const name = item.name ?? item.title ?? item.sku ?? "";
  const spec = item.spec ?? item.variant ?? item.sku_text ?? "";
  const qty = item.quantity ?? item.qty;
  return [name, spec].filter(Boolean).join(" · ") + (qty !== undefined && qty !== null ? ` × ${qty}` : "");
}

function eventLine(ev) {
  if (ev === null || ev === undefined || ev === "") return "";
  if (typeof ev !== "object") return String(ev);
  const when = ev.time ?? ev.at ?? ev.created_at ?? ev.timestamp;
  const what = ev.text ?? ev.description ?? ev.status_text ?? ev.status ?? "";
  return [when ? formatTime(when) : "", ev.location ?? "", what].filter(Boolean).join(" ");
}

/** A small card for one order the bot looked up. */
export function orderCard(order) {
  const row = (key, value, testId) =>
    value ? el("div", { class: "sd-order__row" }, tr(key, "span", { class: "sd-order__label" }), el("span", { class: "sd-order__value", "data-testid": testId, text: value })) : null;
  const items = (Array.isArray(order.items) ? order.items : order.items ? [order.items] : []).map(itemLine).filter(Boolean);
  // shipping_text usually says it all ("顺丰 SF…：已到达…"); carrier and latest event fill in when it does not.
  const shipping = order.shipping_text || "";
  const parcel = [order.carrier, order.tracking_number].filter(Boolean).join(" ");
  const latest = eventLine(order.latest_event);
  return el(
    "div",
    { class: "sd-order", "data-testid": "bot-order-card", "data-order-number": order.order_number || "" },
    el(
      "div",
      { class: "sd-order__head" },
      el("span", { class: "sd-order__no" }, tr("bot.order.number", "span", { class: "sd-order__label" }), el("b", { "data-testid": "bot-order-number", text: order.order_number || "" })),
      order.status_text ? el("span", { class: "sd-order__status", "data-testid": "bot-order-status", text: order.status_text }) : null,
    ),
    items.length ? el("ul", { class: "sd-order__items" }, ...items.map((line) => el("li", { text: line }))) : null,
    row("bot.order.amount", order.amount_cents !== undefined && order.amount_cents !== null ? formatAmount(order.amount_cents) : "", "bot-order-amount"),
    row("bot.order.shipping", shipping, "bot-order-shipping"),
    row("bot.order.carrier", parcel && !shipping.includes(parcel) ? parcel : "", "bot-order-tracking"),
    row("bot.order.latest", latest && !shipping.includes(latest) ? latest : "", "bot-order-latest"),
  );
}

/**
 * The extras under a bot turn, or null when there are none. With onAsk(text, ref) the suggestions, first
 * questions and the handover offer are buttons that send a message; without it they are shown as a record.
 */
export function botExtras(m, { onAsk } = {}) {
  const bot = m?.bot;
  if (!bot || typeof bot !== "object") return null;
  const parts = [];
  const ask = (btn, text, ref) => {
    btn.addEventListener("click", () => {
      if (onAsk(text, ref) !== false) btn.classList.add("is-picked");
    });
    return btn;
  };

  const suggestions = Array.isArray(bot.suggestions) ? bot.suggestions.filter((s) => s && s.question) : [];
  if (suggestions.length) {
    const items = suggestions.map((s) =>
      onAsk
        ? ask(
            el("button", { type: "button", class: "sd-bot-suggestion", "data-testid": "bot-suggestion", "data-entry-id": s.entry_id ?? "", text: s.question }),
            s.question,
            { kind: "suggestion", entry_id: s.entry_id },
          )
        : el("span", { class: "sd-bot-suggestion sd-bot-suggestion--static", "data-entry-id": s.entry_id ?? "", text: s.question }),
    );
    // The server's text is often the title itself ("您是不是想问："); it is not said twice.
    const bare = (x) => String(x || "").replace(/[\s:：]/g, "");
    const titled = [bare(t("bot.suggest.title")), "您是不是想问"].includes(bare(m.text));
    parts.push(el("div", { class: "sd-bot-suggestions" }, titled ? null : tr("bot.suggest.title", "p", { class: "sd-bot-suggestions__title" }), ...items));
  }

  const firsts = Array.isArray(bot.first_questions) ? bot.first_questions.filter((q) => q && q.text) : [];
  if (firsts.length) {
    const chips = firsts.map((q) =>
      onAsk
        ? ask(
            el("button", { type: "button", class: "sd-bot-chip", "data-testid": "first-question", "data-question-id": q.id ?? "", text: q.text }),
            q.text,
            { kind: "first_question", id: q.id },
          )
        : el("span", { class: "sd-bot-chip sd-bot-chip--static", "data-question-id": q.id ?? "", text: q.text }),
    );
    parts.push(el("div", { class: "sd-bot-chips" }, ...chips));
  }

  if (bot.offer_handover === true) {
    parts.push(
      onAsk
        ? ask(
            el("button", { type: "button", class: "sd-bot-handover", "data-testid": "bot-handover" }, icon("person"), tr("bot.handover")),
            HANDOVER_TEXT,
            { kind: "handover" },
          )
        : tr("bot.handoverOffered", "span", { class: "tag tag--muted sd-bot-offered" }),
    );
  }

  if (bot.order && typeof bot.order === "object") parts.push(orderCard(bot.order));
  return parts.length ? el("div", { class: "sd-bot-extras" }, ...parts) : null;
}
