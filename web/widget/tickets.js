// The widget's "my tickets": the visitor's tickets, one ticket's public timeline with a reply box, and
// a form for a new ticket. Loaded by widget.js from its own origin, like the shared modules.
import { el, tr } from "../common/chat.js";
import { errorText, formatTime, t, translateTree } from "../common/i18n.js";
import { MAX_DESCRIPTION, TYPES, eventItem, mergeEvents, shortTicketId, statusTag, ticketPath, typeTag } from "../common/tickets.js";

/** api: the widget's Api (visitor token); onClose(): back to the chat. */
export function createTicketsView({ api, onClose }) {
  let mode = "list"; // list | form | detail
  let items = [];
  let loaded = false;
  let current = null; // {id, ticket, events}
  let request = 0;

  const backBtn = el("button", { type: "button", class: "sdw-btn sdw-btn--link sdw-tk-back", "data-testid": "widget-tickets-back" });
  const title = el("strong", { class: "sdw-tk-title" });
  const bar = el("div", { class: "sdw-tk-bar" }, backBtn, title);

  // List
  const newBtn = tr("w.tk.new", "button", { type: "button", class: "sdw-btn sdw-btn--primary sdw-btn--block", "data-testid": "widget-ticket-new" });
  const listEl = el("ul", { class: "sdw-tk-list", "data-testid": "widget-ticket-list" });
  const listView = el("div", { class: "sdw-tk-pane" }, listEl, newBtn);

  // New ticket form
  const typeSelect = el(
    "select",
    { class: "sdw-field", "data-testid": "widget-ticket-type", "data-i18n-aria-label": "w.tk.type", "aria-label": t("w.tk.type") },
    ...TYPES.map((x) => el("option", { value: x, "data-i18n": `tk.type.${x}`, text: t(`tk.type.${x}`) })),
  );
  const descInput = el("textarea", { class: "sdw-field", rows: 5, maxlength: MAX_DESCRIPTION, "data-testid": "widget-ticket-description", "data-i18n-placeholder": "w.tk.description", placeholder: t("w.tk.description") });
  const orderInput = el("input", { class: "sdw-field", type: "text", maxlength: 64, "data-testid": "widget-ticket-order", "data-i18n-placeholder": "w.tk.order", placeholder: t("w.tk.order") });
  const contactInput = el("input", { class: "sdw-field", type: "text", maxlength: 100, "data-testid": "widget-ticket-contact", "data-i18n-placeholder": "w.tk.contact", placeholder: t("w.tk.contact") });
  const formError = el("p", { class: "sdw-error", role: "alert" });
  const submitBtn = tr("w.tk.submit", "button", { type: "submit", class: "sdw-btn sdw-btn--primary sdw-btn--block", "data-testid": "widget-ticket-submit" });
  const form = el(
    "form",
    { class: "sdw-tk-pane sdw-tk-form", "data-testid": "widget-ticket-form", novalidate: true },
    tr("w.tk.type", "label", { class: "sdw-tk-label" }),
    typeSelect,
    descInput,
    orderInput,
    contactInput,
    formError,
    submitBtn,
  );

  // Detail
  const detailHead = el("div", { class: "sdw-tk-head" });
  const detailDesc = el("p", { class: "sdw-tk-desc", "data-testid": "widget-ticket-description-text" });
  const timeline = el("ol", { class: "sd-tk-timeline sdw-tk-timeline", "data-testid": "widget-ticket-timeline" });
  const replyInput = el("textarea", { class: "sdw-field", rows: 2, maxlength: MAX_DESCRIPTION, "data-testid": "widget-ticket-reply-input", "data-i18n-placeholder": "w.tk.replyPlaceholder", placeholder: t("w.tk.replyPlaceholder") });
  const replyBtn = tr("w.tk.reply", "button", { type: "button", class: "sdw-btn sdw-btn--primary", "data-testid": "widget-ticket-reply-send" });
  const replyError = el("p", { class: "sdw-error", role: "alert" });
  const detail = el(
    "div",
    { class: "sdw-tk-detail", "data-testid": "widget-ticket-detail" },
    el("div", { class: "sdw-tk-pane sdw-tk-scroll" }, detailHead, detailDesc, timeline),
    el("div", { class: "sdw-tk-reply" }, replyInput, replyError, el("div", { class: "sdw-tk-reply__foot" }, replyBtn)),
  );

  const root = el("div", { class: "sdw-tickets", "data-testid": "widget-tickets-view", hidden: true }, bar, listView, form, detail);

  // ---- rendering -------------------------------------------------------------------------------
  function render() {
    listView.hidden = mode !== "list";
    form.hidden = mode !== "form";
    detail.hidden = mode !== "detail";
    const backKey = mode === "list" ? "w.tk.back" : "w.tk.backToList";
    backBtn.dataset.i18n = backKey;
    backBtn.textContent = `‹ ${t(backKey)}`;
    if (mode === "list") title.textContent = t("w.tk.list");
    else if (mode === "form") title.textContent = t("w.tk.new");
    else title.textContent = t("tk.id", { id: shortTicketId(current?.id) });
  }

  function renderList() {
    if (!items.length) {
      listEl.replaceChildren(tr(loaded ? "w.tk.empty" : "tk.loading", "li", { class: "sdw-tk-empty" }));
      return;
    }
    listEl.replaceChildren(
      ...items.map((tk) => {
        const row = el(
          "button",
          { type: "button", class: "sdw-tk-row", "data-testid": "widget-ticket-row", "data-ticket-id": tk.ticket_id, "data-status": tk.status },
          el("span", { class: "sdw-tk-row__top" }, el("span", { class: "sdw-tk-row__id", text: `#${shortTicketId(tk.ticket_id)}` }), typeTag(tk.type), statusTag(tk.status)),
          el("span", { class: "sdw-tk-row__desc", text: tk.description || "" }),
          el("time", { class: "sdw-tk-row__time", datetime: tk.updated_at || tk.created_at, text: formatTime(tk.updated_at || tk.created_at) }),
        );
        row.addEventListener("click", () => openTicket(tk.ticket_id));
        return el("li", {}, row);
      }),
    );
  }

  function renderDetail() {
    const tk = current?.ticket;
    detail.dataset.ticketId = current?.id || "";
    if (!tk) {
      detailHead.replaceChildren(tr("tk.loading", "span", { class: "sdw-tk-empty" }));
      detailDesc.textContent = "";
      timeline.replaceChildren();
      return;
    }
    detail.dataset.status = tk.status;
    detailHead.replaceChildren(
      statusTag(tk.status, { "data-testid": "widget-ticket-status" }),
      typeTag(tk.type),
      tk.order_number ? el("span", { class: "sdw-tk-meta", text: `${t("tk.d.order")}: ${tk.order_number}` }) : "",
      el("time", { class: "sdw-tk-meta", datetime: tk.created_at, text: formatTime(tk.created_at) }),
    );
    detailDesc.textContent = tk.description || "";
    const events = current.events || [];
    if (!events.length) timeline.replaceChildren(tr("w.tk.noEvents", "li", { class: "sdw-tk-empty" }));
    else timeline.replaceChildren(...events.map((ev) => eventItem(ev, { testId: "widget-ticket-event", showVisibility: false })));
    const scroller = timeline.closest(".sdw-tk-scroll");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }

  // ---- data ------------------------------------------------------------------------------------
  async function loadList() {
    const r = ++request;
    try {
      const data = await api.get("/visitor/tickets");
      if (r !== request) return;
      items = data?.items || [];
      loaded = true;
      renderList();
    } catch (e) {
      if (r !== request) return;
      loaded = true;
      renderList();
      listEl.prepend(el("li", { class: "sdw-error", text: errorText(e) }));
    }
  }

  async function loadTicket(id) {
    const r = ++request;
    try {
      const [ticket, events] = await Promise.all([api.get(ticketPath(id)), api.getAll(ticketPath(id, "/timeline"), { limit: 100 }, 20)]);
      if (r !== request || current?.id !== id) return;
      current = { id, ticket, events: mergeEvents([], events) };
      renderDetail();
    } catch (e) {
      if (r === request && current?.id === id) replyError.textContent = errorText(e);
    }
  }

  function openTicket(id) {
    mode = "detail";
    current = { id, ticket: items.find((x) => x.ticket_id === id) || null, events: [] };
    replyError.textContent = "";
    render();
    renderDetail();
    return loadTicket(id);
  }

  // ---- actions ---------------------------------------------------------------------------------
  backBtn.addEventListener("click", () => {
    if (mode === "list") {
      close();
      onClose?.();
      return;
    }
    mode = "list";
    current = null;
    render();
    loadList();
  });

  newBtn.addEventListener("click", () => {
    mode = "form";
    form.reset();
    formError.textContent = "";
    typeSelect.value = "other";
    render();
    descInput.focus();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const description = descInput.value.trim();
    if (!description) {
      formError.textContent = t("w.tk.needDescription");
      descInput.focus();
      return;
    }
    const body = { type: typeSelect.value, description };
    if (orderInput.value.trim()) body.order_number = orderInput.value.trim();
    if (contactInput.value.trim()) body.contact = contactInput.value.trim();
    submitBtn.disabled = true;
    try {
      const tk = await api.post("/visitor/tickets", body);
      items = [tk, ...items.filter((x) => x.ticket_id !== tk.ticket_id)];
      await openTicket(tk.ticket_id);
    } catch (e) {
      formError.textContent = errorText(e);
    } finally {
      submitBtn.disabled = false;
    }
  });

  async function sendReply() {
    const text = replyInput.value.trim();
    if (!text || !current) return;
    replyBtn.disabled = true;
    replyError.textContent = "";
    try {
      const ev = await api.post(ticketPath(current.id, "/notes"), { text, public: true });
      if (replyInput.value.trim() === text) replyInput.value = "";
      if (ev?.event_id) {
        current.events = mergeEvents(current.events, [ev]);
        renderDetail();
      }
      loadTicket(current.id);
    } catch (e) {
      replyError.textContent = errorText(e);
    } finally {
      replyBtn.disabled = false;
    }
  }
  replyBtn.addEventListener("click", sendReply);
  replyInput.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      sendReply();
    }
  });

  // ---- public ----------------------------------------------------------------------------------
  function open(ticketId) {
    root.hidden = false;
    if (ticketId) return openTicket(ticketId);
    mode = "list";
    current = null;
    render();
    renderList();
    return loadList();
  }

  function close() {
    root.hidden = true;
    request += 1;
  }

  // {"type":"ticket","event":"reply",...}: refresh what is on screen; says whether it was on screen.
  function handleFrame(frame) {
    const tk = frame.ticket;
    if (!tk?.ticket_id) return false;
    const i = items.findIndex((x) => x.ticket_id === tk.ticket_id);
    if (i >= 0) items[i] = { ...items[i], ...tk };
    else items.unshift(tk);
    if (root.hidden) return false;
    if (mode === "list") renderList();
    if (mode === "detail" && current?.id === tk.ticket_id) {
      current.ticket = { ...current.ticket, ...tk };
      renderDetail();
      loadTicket(tk.ticket_id);
      return true;
    }
    return mode === "list";
  }

  function relabel() {
    translateTree(root);
    render();
    if (mode === "list") renderList();
    if (mode === "detail") renderDetail();
  }

  return {
    el: root,
    open,
    close,
    handleFrame,
    relabel,
    get isOpen() {
      return !root.hidden;
    },
  };
}
