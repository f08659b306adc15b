// ShopDesk chat widget for shop pages: <script src="/widget/widget.js" defer></script>.
// A classic script (so it embeds anywhere) that pulls the shared ES modules from its own origin.
(() => {
  const script = document.currentScript;
  const base = new URL(script ? script.src : "/widget/widget.js", location.href);
  const RENEW_MARGIN_MS = 5 * 60 * 1000;
  const NOTICE_MS = 5000;
  const HANDOVER_COOLDOWN_MS = 5000;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.append(s);
    });
  }

  async function boot() {
    // Host pages normally load /config.js themselves; a page on another site gets it from the widget's origin.
    if (!window.SHOPDESK_CONFIG) await loadScript(new URL("/config.js", base).href);
    if (!window.SHOPDESK_CONFIG) throw new Error("window.SHOPDESK_CONFIG is not set");
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("widget.css", base).href;
    document.head.append(css);
    const modules = await Promise.all(
      ["../common/i18n.js", "../common/api.js", "../common/ws.js", "../common/chat.js", "tickets.js", "../common/bot.js"].map((p) =>
        import(new URL(p, base).href),
      ),
    );
    createWidget(window.SHOPDESK_CONFIG, ...modules);
  }

  boot().catch((e) => console.error("ShopDesk widget could not start:", e));

  function createWidget(cfg, i18n, apiMod, wsMod, chat, ticketsMod, botMod) {
    const { t, errorText, translateTree, toggleLang, onLangChange, getLang } = i18n;
    const { Api, sessionPath } = apiMod;
    const { ChatSocket } = wsMod;
    const { Composer, Conversation, el, tr, icon, MAX_TEXT, roleOf } = chat;

    const storeKey = cfg.storeId || "default";
    const TOKEN_KEY = `shopdesk.${storeKey}.visitor`;
    const SESSION_KEY = `shopdesk.${storeKey}.session`;

    const storage = {
      get(key) {
        try {
          return JSON.parse(localStorage.getItem(key));
        } catch {
          return null;
        }
      },
      set(key, value) {
        try {
          localStorage.setItem(key, JSON.stringify(value));
        } catch {
          // Storage full or blocked: the widget still works for this page view.
        }
      },
      remove(key) {
        try {
          localStorage.removeItem(key);
        } catch {
          // See set().
        }
      },
    };
    const loadSessionId = () => storage.get(SESSION_KEY);
    const saveSessionId = (id) => storage.set(SESSION_KEY, id);
    const clearSessionId = () => storage.remove(SESSION_KEY);

    // ---- visitor token -------------------------------------------------------------------------
    let tokenPromise = null;

    function shopUser() {
      const u = window.SHOPDESK_SHOP_USER;
      return u && typeof u === "object" && u.user_id != null ? u : null;
    }

    function ensureToken(force = false) {
      const user = shopUser();
      const wanted = user ? String(user.user_id) : null;
      const cur = storage.get(TOKEN_KEY);
      // A token minted for another identity (buyer logged in or out of the shop) is not reused.
      const usable = cur && cur.token && (cur.user_id ?? null) === wanted ? cur : null;
      if (usable && !force) {
        const margin = Math.min(RENEW_MARGIN_MS, (usable.expires_at - usable.issued_at) / 2);
        if (usable.expires_at - Date.now() > margin) return Promise.resolve(usable.token);
      }
      tokenPromise ||= fetchToken(usable, user).finally(() => {
        tokenPromise = null;
      });
      return tokenPromise;
    }

    async function fetchToken(cur, user) {
      let data = null;
      if (cur) {
        try {
          data = await api.post("/visitor/token", { visitor_token: cur.token }, { auth: false });
        } catch (e) {
          if (e.code === "network") throw e;
        }
      }
      if (!data) {
        const body = user ? { shop_user: { user_id: user.user_id, ts: user.ts, signature: user.signature } } : {};
        data = await api.post("/visitor/token", body, { auth: false });
      }
      const previous = storage.get(TOKEN_KEY);
      if (previous?.visitor_id && previous.visitor_id !== data.visitor_id) clearSessionId();
      const now = Date.now();
      storage.set(TOKEN_KEY, {
        token: data.token,
        visitor_id: data.visitor_id,
        user_id: user ? String(user.user_id) : null,
        issued_at: now,
        expires_at: now + (data.expires_in || 3600) * 1000,
      });
      return data.token;
    }

    const api = new Api({
      baseUrl: cfg.apiUrl,
      getToken: () => ensureToken(),
      onUnauthorized: async () => {
        try {
          await ensureToken(true);
          return true;
        } catch {
          return false;
        }
      },
    });

    // ---- DOM -----------------------------------------------------------------------------------
    const badge = el("span", { class: "sdw-badge", hidden: true });
    const launcher = el(
      "button",
      { type: "button", class: "sdw-launcher", "data-testid": "widget-open", "aria-expanded": "false" },
      icon("chat"),
      tr("w.launcher"),
      badge,
    );

    const statusEl = el("div", { class: "sdw-status", "data-testid": "widget-status", "aria-live": "polite" });
    const langBtn = el("button", {
      type: "button",
      class: "sdw-iconbtn sdw-lang",
      "data-testid": "widget-lang",
      "data-i18n": "lang.switch",
      "data-i18n-title": "lang.switch.title",
      text: t("lang.switch"),
      title: t("lang.switch.title"),
    });
    const ticketsBtn = tr("w.tk.open", "button", { type: "button", class: "sdw-iconbtn sdw-tk-open", "data-testid": "widget-tickets" });
    // While the bot serves, a person is always one click away.
    const handoverBtn = el(
      "button",
      {
        type: "button",
        class: "sdw-handover",
        "data-testid": "widget-handover",
        "data-i18n-title": "w.handover.title",
        title: t("w.handover.title"),
        hidden: true,
      },
      icon("person"),
      tr("w.handover"),
    );
    // A chat the bot served alone is closed by the customer, then rated like any other.
    const finishBtn = tr("w.finish", "button", {
      type: "button",
      class: "sdw-handover sdw-finish",
      "data-testid": "widget-finish",
      hidden: true,
    });
    const headerAvatar = el("div", { class: "sdw-avatar" }, icon("headset"));
    const closeBtn = el(
      "button",
      {
        type: "button",
        class: "sdw-iconbtn sdw-close",
        "data-i18n-aria-label": "w.close",
        "aria-label": t("w.close"),
        "data-i18n-title": "w.close",
        title: t("w.close"),
      },
      icon("minus"),
    );
    const header = el(
      "header",
      { class: "sdw-header" },
      headerAvatar,
      el(
        "div",
        { class: "sdw-header__text" },
        cfg.storeName ? el("div", { class: "sdw-title", text: cfg.storeName }) : tr("w.title", "div", { class: "sdw-title" }),
        statusEl,
      ),
      ticketsBtn,
      langBtn,
      closeBtn,
    );

    const noticeText = el("span");
    const noticeAction = el("button", { type: "button", class: "sdw-notice__action", hidden: true });
    const notice = el("div", { class: "sdw-notice", role: "alert", hidden: true }, noticeText, noticeAction);

    // Offline-message view.
    const offlineHeading = el("h3", { class: "sdw-offline__title" });
    const offlineText = el("textarea", { class: "sdw-field", rows: 4, maxlength: MAX_TEXT, "data-i18n-placeholder": "w.offline.text" });
    const offlineContact = el("input", { class: "sdw-field", type: "text", maxlength: 100, "data-i18n-placeholder": "w.offline.contact" });
    const offlineError = el("p", { class: "sdw-error" });
    const offlineSubmit = tr("w.offline.submit", "button", { type: "submit", class: "sdw-btn sdw-btn--primary" });
    const offlineForm = el(
      "form",
      { class: "sdw-offline__form", "data-testid": "widget-offline-form", novalidate: true },
      offlineText,
      offlineContact,
      offlineError,
      offlineSubmit,
    );
    const offlineDone = tr("w.offline.done", "p", { class: "sdw-offline__done", hidden: true });
    const chatAnyway = tr("w.offline.chat", "button", { type: "button", class: "sdw-btn sdw-btn--link", "data-testid": "widget-chat-anyway" });
    const offlineView = el(
      "div",
      { class: "sdw-offline", hidden: true },
      el("div", { class: "sdw-offline__icon" }, icon("clock")),
      offlineHeading,
      tr("w.offline.desc", "p", { class: "sdw-offline__desc" }),
      offlineForm,
      offlineDone,
      chatAnyway,
    );

    // Chat view.
    const messagesEl = el("div", { class: "sdw-messages", "data-testid": "widget-messages", role: "log", "aria-live": "polite" });
    const typingEl = tr("chat.typing", "div", { class: "sd-typing", hidden: true });

    const starButtons = [1, 2, 3, 4, 5].map((n) =>
      el("button", { type: "button", class: "sdw-star", "data-testid": `rating-star-${n}`, "aria-pressed": "false", "aria-label": t("rating.star", { n }), text: "★" }),
    );
    const solvedYes = tr("rating.yes", "button", { type: "button", class: "sdw-chip", "data-testid": "rating-solved-yes", "aria-pressed": "false" });
    const solvedNo = tr("rating.no", "button", { type: "button", class: "sdw-chip", "data-testid": "rating-solved-no", "aria-pressed": "false" });
    const ratingComment = el("textarea", {
      class: "sdw-field",
      rows: 2,
      maxlength: 500,
      "data-testid": "rating-comment",
      "data-i18n-placeholder": "rating.comment",
    });
    const ratingError = el("p", { class: "sdw-error" });
    const ratingForm = el(
      "form",
      { class: "sdw-rating", "data-testid": "widget-rating", hidden: true },
      tr("rating.title", "h3", { class: "sdw-rating__title" }),
      el("div", { class: "sdw-stars", role: "group" }, ...starButtons),
      tr("rating.solved", "p", { class: "sdw-rating__q" }),
      el("div", { class: "sdw-chips" }, solvedYes, solvedNo),
      ratingComment,
      ratingError,
      tr("rating.submit", "button", { type: "submit", class: "sdw-btn sdw-btn--primary sdw-btn--block", "data-testid": "rating-submit" }),
    );
    const endedText = el("p", { class: "sdw-ended__text" });
    const newChatBtn = tr("w.newChat", "button", { type: "button", class: "sdw-btn sdw-btn--primary" });
    const endedBox = el("div", { class: "sdw-ended", hidden: true }, endedText, newChatBtn);

    const chatView = el("div", { class: "sdw-chat" }, messagesEl, typingEl, ratingForm, endedBox);

    // "My tickets" covers the chat (which keeps its state) until the visitor goes back.
    const ticketsView = ticketsMod.createTicketsView({ api, onClose: () => body.classList.remove("sdw-body--tickets") });
    const body = el("div", { class: "sdw-body" }, notice, offlineView, chatView, ticketsView.el);
    const panel = el(
      "section",
      { class: "sdw-panel", "data-testid": "widget-panel", role: "dialog", "data-i18n-aria-label": "w.title", hidden: true },
      header,
      body,
    );
    const root = el("div", { class: "sdw-root", lang: getLang() }, panel, launcher);
    document.body.append(root);
    translateTree(root);

    // ---- state ---------------------------------------------------------------------------------
    let started = false;
    let bootFailed = false;
    let session = null;
    let queuePosition = null;
    let offlineReason = null;
    let unread = 0;
    let ratedSessionId = null;
    let openRequests = 0;
    let rating = { stars: 0, solved: null };
    let noticeTimer = null;

    const socket = new ChatSocket({
      getUrl: async () => `${cfg.wsUrl}?token=${encodeURIComponent(await ensureToken())}`,
      api,
      tracked: () => (conv.sessionId ? [{ sessionId: conv.sessionId, lastSeq: conv.lastSeq }] : []),
      onFrame: handleFrame,
      onState: () => renderStatus(),
      onOpen: () => openSession(),
      // A handshake refused twice in a row is most likely a stale token.
      onConnectFailed: (count) => {
        if (count === 2) ensureToken(true).catch(() => {});
      },
    });
    const conv = new Conversation({
      list: messagesEl,
      typingEl,
      selfRole: "visitor",
      testId: "widget-message",
      botTestId: "bot-message",
      botExtras: (m) => botMod.botExtras(m, { onAsk: ask }),
      socket,
      api,
      onNotice: (text) => showNotice(text),
    });
    const composer = new Composer({
      conv,
      placeholderKey: "w.placeholder",
      sendKey: "w.send",
      inputTestId: "widget-input",
      sendTestId: "widget-send",
      onNotice: (text) => showNotice(text),
    });
    chatView.append(composer.el);
    // The shortcut to a person sits with the composer's tools, where the customer is typing.
    composer.el.querySelector(".sd-composer__tools").append(handoverBtn, finishBtn);

    // ---- rendering -----------------------------------------------------------------------------
    function showNotice(text, action) {
      noticeText.textContent = text;
      noticeAction.hidden = !action;
      if (action) {
        noticeAction.textContent = action.label;
        noticeAction.onclick = () => {
          notice.hidden = true;
          action.run();
        };
      }
      notice.hidden = false;
      clearTimeout(noticeTimer);
      if (!action) noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
    }

    function chatOpen() {
      return Boolean(session) && session.status !== "ended" && session.status !== "offline";
    }

    // A click on a suggestion, a first question or "转人工": the question is sent as if typed, with a ref.
    function ask(text, ref) {
      if (!chatOpen() || !conv.sessionId) {
        showNotice(t("err.session_closed"));
        return false;
      }
      conv.send("text", text, ref);
      return true;
    }

    function statusLine() {
      if (bootFailed) return ["error", t("w.status.error")];
      if (!offlineView.hidden) return ["offline", t(offlineReason)];
      if (socket.state !== "open") return ["connecting", t(socket.everOpened ? "w.status.reconnecting" : "w.status.connecting")];
      if (!session) return ["connecting", t("w.status.connecting")];
      switch (session.status) {
        case "bot":
          return ["bot", t("w.status.bot")];
        case "queued":
          return ["queued", queuePosition ? t("w.status.queued", { n: queuePosition }) : t("w.status.queuedNoPos")];
        case "active":
          return ["active", session.agent_name ? t("w.status.active", { name: session.agent_name }) : t("w.status.activeNoName")];
        case "ended":
          return ["ended", t("w.status.ended")];
        case "offline":
          return ["ended", t("w.status.offline")];
        default:
          return ["new", t("w.status.new")];
      }
    }

    function renderStatus() {
      const [state, text] = statusLine();
      statusEl.dataset.state = state;
      statusEl.textContent = text;
      const open = chatOpen();
      composer.el.hidden = !open && Boolean(session);
      composer.setEnabled(open);
      const botServing = session?.status === "bot" && state !== "offline";
      handoverBtn.hidden = !botServing;
      finishBtn.hidden = !botServing;
      headerAvatar.replaceChildren(icon(botServing ? "bot" : "headset"));
      panel.classList.toggle("sdw-panel--bot", botServing);
    }

    function renderBadge() {
      badge.hidden = unread === 0;
      badge.textContent = unread > 99 ? "99+" : String(unread);
    }

    function panelVisible() {
      return !panel.hidden && document.visibilityState === "visible";
    }

    function markSeen() {
      if (!panelVisible()) return;
      unread = 0;
      renderBadge();
      conv.markRead();
    }

    // ---- session lifecycle ---------------------------------------------------------------------
    function openSession() {
      if (session?.status === "ended") return;
      const sessionId = session?.session_id || loadSessionId();
      openRequests += 1;
      const frame = { action: "openSession", channel: "web", page: location.href, request_id: `open-${openRequests}` };
      if (sessionId) frame.session_id = sessionId;
      socket.send(frame);
    }

    function applySession(s) {
      if (!s?.session_id) return;
      const isNew = conv.sessionId !== s.session_id;
      if (isNew) {
        conv.reset(s.session_id);
        ratingForm.hidden = true;
        endedBox.hidden = true;
      }
      session = s;
      queuePosition = s.queue_position ?? null;
      if (s.status === "ended" || s.status === "offline") clearSessionId();
      else saveSessionId(s.session_id);
      if (isNew && s.last_seq > 0) conv.loadHistory({ since: 0 }).then(markSeen);
      if (s.status === "ended") showEnded(s);
      renderStatus();
    }

    function showEnded(s) {
      composer.el.hidden = true;
      if (s.rating || ratedSessionId === s.session_id) {
        ratingForm.hidden = true;
        endedText.textContent = t(ratedSessionId === s.session_id ? "rating.thanks" : "w.ended");
        endedBox.hidden = false;
      } else if (ratingForm.hidden) {
        resetRating();
        ratingForm.hidden = false;
        endedBox.hidden = true;
      }
      conv.scrollToBottom();
    }

    function newConversation() {
      session = null;
      queuePosition = null;
      clearSessionId();
      conv.reset(null);
      ratingForm.hidden = true;
      endedBox.hidden = true;
      renderStatus();
      openSession();
      composer.input.focus();
    }

    function handleFrame(frame) {
      switch (frame.type) {
        case "session":
          applySession(frame.session);
          break;
        case "queue":
          if (frame.session_id === session?.session_id) {
            queuePosition = frame.position;
            renderStatus();
          }
          break;
        case "error":
          handleError(frame);
          break;
        case "ticket":
          // A reply on one of the visitor's tickets: refresh it, or offer to open it.
          if (!ticketsView.handleFrame(frame) && frame.event === "reply" && frame.ticket?.ticket_id) {
            showNotice(t("w.tk.newReply"), { label: t("w.tk.view"), run: () => openTickets(frame.ticket.ticket_id) });
          }
          break;
        case "pong":
          break;
        default:
          if (frame.session_id && frame.session_id === conv.sessionId) {
            const message = conv.handleFrame(frame);
            if (message && roleOf(message.sender?.role) !== "visitor") {
              if (panelVisible()) markSeen();
              else {
                unread += 1;
                renderBadge();
              }
            }
          }
      }
    }

    function handleError(frame) {
      // A stored session that is gone or not ours any more: start afresh instead of failing forever.
      if (String(frame.request_id || "").startsWith("open-") && ["not_found", "not_participant", "forbidden"].includes(frame.code)) {
        session = null;
        clearSessionId();
        conv.reset(null);
        openSession();
        return;
      }
      conv.handleFrame(frame);
      showNotice(errorText(frame));
    }

    // ---- start-up ------------------------------------------------------------------------------
    async function start() {
      started = true;
      bootFailed = false;
      renderStatus();
      try {
        await ensureToken();
        if (!loadSessionId()) {
          const availability = await api.get("/visitor/availability");
          if (!botAnswers(availability) && (!availability?.agents_online || !availability?.business_hours)) {
            showOffline(availability);
            return;
          }
        }
      } catch (e) {
        started = false;
        bootFailed = true;
        renderStatus();
        showNotice(errorText(e), { label: t("w.retry"), run: start });
        return;
      }
      connect();
    }

    // A store whose bot is on takes chats at any hour: the bot answers and hands over when someone is there.
    function botAnswers(availability) {
      if (availability?.bot === true || availability?.bot_enabled === true) return true;
      const mode = availability?.bot_mode;
      return typeof mode === "string" && mode !== "off";
    }

    function showOffline(availability) {
      offlineReason = availability?.business_hours === false ? "w.offline.afterHours" : "w.offline.noAgent";
      offlineHeading.dataset.i18n = offlineReason;
      offlineHeading.textContent = t(offlineReason);
      offlineView.hidden = false;
      chatView.hidden = true;
      renderStatus();
    }

    function connect() {
      offlineView.hidden = true;
      chatView.hidden = false;
      socket.start();
      renderStatus();
    }

    function openPanel() {
      panel.hidden = false;
      launcher.hidden = true;
      launcher.setAttribute("aria-expanded", "true");
      if (!started) start();
      markSeen();
      conv.scrollToBottom();
      if (!composer.input.disabled) composer.input.focus();
    }

    function closePanel() {
      panel.hidden = true;
      launcher.hidden = false;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    // ---- offline form --------------------------------------------------------------------------
    offlineForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = offlineText.value.trim();
      const contact = offlineContact.value.trim();
      if (!text || !contact) {
        offlineError.textContent = t("w.offline.required");
        return;
      }
      offlineError.textContent = "";
      offlineSubmit.disabled = true;
      try {
        await api.post("/offline-messages", { text, contact });
        offlineForm.hidden = true;
        offlineDone.hidden = false;
      } catch (e) {
        offlineError.textContent = errorText(e);
      } finally {
        offlineSubmit.disabled = false;
      }
    });
    chatAnyway.addEventListener("click", connect);

    // ---- rating --------------------------------------------------------------------------------
    function resetRating() {
      rating = { stars: 0, solved: null };
      ratingComment.value = "";
      renderRating();
    }

    function renderRating() {
      ratingError.textContent = "";
      starButtons.forEach((b, i) => {
        b.classList.toggle("is-on", i < rating.stars);
        b.setAttribute("aria-pressed", String(i + 1 === rating.stars));
      });
      solvedYes.setAttribute("aria-pressed", String(rating.solved === true));
      solvedNo.setAttribute("aria-pressed", String(rating.solved === false));
    }

    starButtons.forEach((b, i) =>
      b.addEventListener("click", () => {
        rating.stars = i + 1;
        renderRating();
      }),
    );
    solvedYes.addEventListener("click", () => {
      rating.solved = true;
      renderRating();
    });
    solvedNo.addEventListener("click", () => {
      rating.solved = false;
      renderRating();
    });
    ratingForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!rating.stars) {
        ratingError.textContent = t("rating.needStars");
        return;
      }
      if (rating.solved === null) {
        ratingError.textContent = t("rating.needSolved");
        return;
      }
      const sessionId = session.session_id;
      try {
        await api.post(sessionPath(sessionId, "/rating"), { stars: rating.stars, comment: ratingComment.value.trim(), solved: rating.solved });
      } catch (e) {
        if (e.code !== "already_rated") {
          ratingError.textContent = errorText(e);
          return;
        }
      }
      ratedSessionId = sessionId;
      showEnded(session);
    });
    newChatBtn.addEventListener("click", newConversation);

    // ---- my tickets ----------------------------------------------------------------------------
    function openTickets(ticketId) {
      if (panel.hidden) openPanel();
      notice.hidden = true;
      body.classList.add("sdw-body--tickets");
      ticketsView.open(ticketId);
    }

    handoverBtn.addEventListener("click", () => {
      if (!ask(botMod.HANDOVER_TEXT, { kind: "handover" })) return;
      // One request is enough; if the bot answers instead (nobody free), the button comes back.
      handoverBtn.disabled = true;
      setTimeout(() => (handoverBtn.disabled = false), HANDOVER_COOLDOWN_MS);
    });

    finishBtn.addEventListener("click", async () => {
      if (!session) return;
      finishBtn.disabled = true;
      try {
        // The server answers with the ended session and pushes the same as a `session` frame.
        applySession(await api.post(`/visitor/sessions/${encodeURIComponent(session.session_id)}/end`, {}));
      } catch (e) {
        showNotice(errorText(e));
      } finally {
        finishBtn.disabled = false;
      }
    });

    ticketsBtn.addEventListener("click", () => {
      if (ticketsView.isOpen) {
        ticketsView.close();
        body.classList.remove("sdw-body--tickets");
      } else openTickets();
    });

    // ---- panel and language --------------------------------------------------------------------
    launcher.addEventListener("click", openPanel);
    closeBtn.addEventListener("click", closePanel);
    panel.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") closePanel();
    });
    langBtn.addEventListener("click", toggleLang);
    onLangChange((lang) => {
      root.lang = lang;
      translateTree(root);
      starButtons.forEach((b, i) => b.setAttribute("aria-label", t("rating.star", { n: i + 1 })));
      if (!endedBox.hidden && session) showEnded(session);
      ticketsView.relabel();
      renderStatus();
    });
    document.addEventListener("visibilitychange", markSeen);

    renderStatus();
    renderBadge();
    // An unfinished conversation follows the buyer from page to page: reconnect at once to catch replies.
    if (loadSessionId()) start();
  }
})();
