// DOM helpers and the Conversation view shared by the widget and the agent workspace.
import { ApiError, sessionPath } from "./api.js";
import { errorText, formatTime, t } from "./i18n.js";
import { sanitizeHtml } from "./richtext.js";
import { newId } from "./ws.js";

export const MAX_TEXT = 4000;
export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const EMOJI = [
  "😀", "😄", "😂", "😊", "😍", "😘", "🤔", "😅",
  "😭", "😡", "😱", "😴", "👍", "👎", "👏", "🙏",
  "💪", "👌", "🤝", "❤️", "🌹", "🎉", "🔥", "✅",
];

// Builds an element. Text only ever enters as text nodes or attributes, never as markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A short notice in the page's #toasts stack.
export function toast(text, kind = "info") {
  const node = el("div", { class: `toast toast--${kind}`, role: kind === "error" ? "alert" : "status", text });
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
}

// A list row that opens on click, Enter or Space, as a button would.
export function onActivate(node, run) {
  node.addEventListener("click", run);
  node.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      run();
    }
  });
  return node;
}

// A translated text node that follows language switches (see translateTree).
export function tr(key, tag = "span", attrs = {}) {
  return el(tag, { ...attrs, "data-i18n": key, text: t(key) });
}

const ICONS = {
  chat: ["M4 5h16v11H10l-4 4v-4H4z", "M8 10.5h.01M12 10.5h.01M16 10.5h.01"],
  minus: ["M6 12h12"],
  close: ["M6 6l12 12M18 6L6 18"],
  smile: ["M3 12a9 9 0 1 0 18 0a9 9 0 1 0-18 0", "M8 14.5s1.5 2 4 2 4-2 4-2", "M9 9.5h.01M15 9.5h.01"],
  image: ["M4 5h16v14H4z", "M4 16l5-5 4 4 2-2 5 5", "M14.5 9.5a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0"],
  headset: ["M4 15v-3a8 8 0 0 1 16 0v3", "M4 14h3v5H4zM17 14h3v5h-3z"],
  clock: ["M3 12a9 9 0 1 0 18 0a9 9 0 1 0-18 0", "M12 7v5l3 2"],
  transfer: ["M4 8h13l-3-3M20 16H7l3 3"],
  stop: ["M3 12a9 9 0 1 0 18 0a9 9 0 1 0-18 0", "M9 9h6v6H9z"],
  bot: ["M5 9h14v10H5z", "M12 5v4M9 13h.01M15 13h.01M9.5 16h5", "M12 4.5h.01M3 13v2M21 13v2"],
  person: ["M8 8a4 4 0 1 0 8 0a4 4 0 1 0-8 0", "M5 20a7 7 0 0 1 14 0"],
  book: ["M5 4h10a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3z", "M5 17a3 3 0 0 1 3-3h10"],
};

// Small stroked SVG icons, decorative only.
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", class: "sd-icon", "aria-hidden": "true", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" })) {
    svg.setAttribute(k, v);
  }
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

// Wire roles onto the three sides a chat shows: visitor, agent (any staff or bot) and system.
export function roleOf(role) {
  if (role === "visitor") return "visitor";
  if (!role || role === "system") return "system";
  return "agent";
}

// The bot speaks for the store (the agent's side) but is drawn as itself, never as "my" message.
export function isBotMessage(m) {
  return m?.sender?.role === "bot" || m?.kind === "bot";
}

export function checkImage(file) {
  if (!IMAGE_TYPES.includes(file.type)) return "image_type_not_allowed";
  if (file.size > MAX_IMAGE_BYTES) return "image_too_large";
  return null;
}

// Presigned S3 POST: the policy fields first, the file last (S3 ignores fields after the file).
export async function uploadImage(api, sessionId, file) {
  const { url, fields, key } = await api.post("/uploads", { session_id: sessionId, content_type: file.type, size: file.size });
  const form = new FormData();
  for (const [name, value] of Object.entries(fields || {})) form.append(name, value);
  form.append("file", file);
  let res;
  try {
    res = await fetch(url, { method: "POST", body: form });
  } catch (e) {
    throw new ApiError(0, "upload_failed", e.message);
  }
  if (!res.ok) throw new ApiError(res.status, "upload_failed", res.statusText);
  return key;
}

const STATE_LABELS = {
  uploading: "chat.uploading",
  sending: "chat.sending",
  failed: "chat.failed",
  sent: "chat.sent",
  read: "chat.read",
};
const TYPING_SHOWN_MS = 4000;
const TYPING_THROTTLE_MS = 3000;

/**
 * One session's message list: ordered by seq, deduped by seq, with local bubbles for messages
 * still in flight (matched to the server's copy by client_msg_id) and read receipts on own messages.
 */
export class Conversation {
  /**
   * botTestId: the test id of bot turns (else testId); botExtras(m): a node under a bot turn (suggestions,
   * order card...) or null.
   */
  constructor({ list, typingEl, selfRole, selfId, testId, botTestId, botExtras, socket, api, onNotice }) {
    Object.assign(this, { list, typingEl, selfRole, selfId, testId, botTestId, botExtras, socket, api, onNotice });
    this.pinned = true;
    this.list.addEventListener("scroll", () => {
      this.pinned = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    });
    this.reset(null);
  }

  reset(sessionId) {
    for (const id of this.outbox?.keys() || []) this.socket.discard(id);
    this.sessionId = sessionId;
    this.entries = new Map();
    this.seqs = [];
    this.outbox = new Map();
    this.readSeq = 0;
    this.readSent = 0;
    this.lastOtherSeq = 0;
    this.lastOtherText = "";
    this.lastTypingAt = 0;
    this.list.replaceChildren();
    this.hideTyping();
  }

  get lastSeq() {
    return this.seqs.length ? this.seqs[this.seqs.length - 1] : 0;
  }

  async loadHistory(query) {
    const id = this.sessionId;
    try {
      const items = await this.api.getAll(sessionPath(id, "/messages"), query);
      if (id !== this.sessionId) return;
      for (const message of items) this.add(message);
      this.scrollToBottom();
    } catch {
      if (id === this.sessionId) this.onNotice(t("chat.history.failed"));
    }
  }

  // Returns the message when it is new to this view, else null.
  handleFrame(frame) {
    switch (frame.type) {
      case "message":
        return this.add(frame.message) ? frame.message : null;
      case "ack":
        this.acknowledge(frame);
        return null;
      case "typing":
        if (roleOf(frame.role) !== this.selfRole) this.showTyping();
        return null;
      case "read":
        if (roleOf(frame.role) !== this.selfRole) this.markOwnRead(frame.seq);
        return null;
      case "error":
        this.fail(frame.request_id, frame);
        return null;
      default:
        return null;
    }
  }

  owns(clientMsgId) {
    return this.outbox.has(clientMsgId);
  }

  add(m) {
    if (!m || !Number.isInteger(m.seq)) return false;
    const existing = this.entries.get(m.seq);
    if (existing && !existing.provisional) return false;
    const role = roleOf(m.sender?.role);
    const node = this.renderMessage(m, role);
    const local = m.client_msg_id && this.outbox.get(m.client_msg_id);
    if (local) {
      local.node.remove();
      this.outbox.delete(m.client_msg_id);
    }
    this.entries.set(m.seq, { node });
    if (existing) existing.node.replaceWith(node);
    else this.place(m.seq, node);
    // The bot answers what it has read: everything before its turn is read.
    if (isBotMessage(m) && this.selfRole === "visitor") this.markOwnRead(m.seq - 1);
    if (role !== this.selfRole && role !== "system" && m.seq > this.lastOtherSeq) {
      this.lastOtherSeq = m.seq;
      if (m.kind === "text" && m.text) this.lastOtherText = m.text;
      this.hideTyping();
    }
    this.stick();
    return !existing;
  }

  renderMessage(m, role) {
    if (isBotMessage(m)) return this.renderBotMessage(m);
    const own = role === this.selfRole;
    const node = el("div", {
      class: `sd-msg sd-msg--${role}${own ? " sd-msg--own" : ""}`,
      "data-testid": this.testId,
      "data-role": role,
      "data-seq": m.seq,
    });
    // Staff see who of them wrote a message after a transfer; visitors see the agent's name.
    const showName = role === "agent" && m.sender?.name && (!own || (this.selfId && m.sender.id !== this.selfId));
    if (showName) node.append(el("div", { class: "sd-msg__name", text: m.sender.name }));
    node.append(this.renderBody(m.kind, m.text, m.image_url));
    if (role !== "system") {
      const meta = el("div", { class: "sd-msg__meta" }, el("time", { datetime: m.created_at, text: formatTime(m.created_at) }));
      node.append(meta);
      if (own) {
        meta.append(el("span", { class: "sd-msg__status" }));
        this.setState(node, m.seq <= this.readSeq ? "read" : "sent");
      }
    }
    return node;
  }

  // A bot turn: its name and avatar, the answer (rich when the server sent sanitised HTML), then extras.
  renderBotMessage(m) {
    const staffSide = this.selfRole === "agent";
    const node = el("div", {
      class: `sd-msg sd-msg--bot${staffSide ? " sd-msg--staffside" : ""}`,
      "data-testid": this.botTestId || this.testId,
      "data-role": "bot",
      "data-seq": m.seq,
    });
    node.append(
      el(
        "div",
        { class: "sd-msg__name sd-msg__name--bot", "data-testid": "bot-name" },
        el("span", { class: "sd-bot-avatar", "aria-hidden": "true" }, icon("bot")),
        tr("bot.name"),
      ),
      this.renderBotAnswer(m),
    );
    const extras = this.botExtras?.(m);
    if (extras) node.append(extras);
    node.append(el("div", { class: "sd-msg__meta" }, el("time", { datetime: m.created_at, text: formatTime(m.created_at) })));
    return node;
  }

  renderBotAnswer(m) {
    const html = m.bot?.answer_html;
    const bubble = el("div", { class: "sd-msg__bubble sd-msg__bubble--bot", "data-testid": "bot-answer" });
    if (typeof html === "string" && html.trim()) {
      const rich = sanitizeHtml(html);
      for (const img of rich.querySelectorAll("img")) img.addEventListener("load", () => this.stick());
      if (rich.textContent.trim() || rich.querySelector("img")) {
        bubble.classList.add("sd-rich");
        bubble.dataset.rich = "true";
        bubble.append(rich);
        return bubble;
      }
    }
    bubble.textContent = m.text || "";
    return bubble;
  }

  renderBody(kind, text, imageUrl) {
    if (kind === "image") {
      const src = safeUrl(imageUrl);
      if (!src) return tr("chat.image", "div", { class: "sd-msg__bubble" });
      const img = el("img", { class: "sd-msg__img", alt: t("chat.image"), loading: "lazy" });
      img.src = src;
      img.addEventListener("load", () => this.stick());
      return el("a", { class: "sd-msg__bubble sd-msg__bubble--image", href: src, target: "_blank", rel: "noopener noreferrer" }, img);
    }
    const cls = kind === "emoji" ? "sd-msg__bubble sd-msg__bubble--emoji" : "sd-msg__bubble";
    return el("div", { class: cls, text: text || "" });
  }

  localNode(kind, text, state) {
    const node = el("div", {
      class: `sd-msg sd-msg--${this.selfRole} sd-msg--own`,
      "data-testid": this.testId,
      "data-role": this.selfRole,
    });
    node.append(
      kind === "image" ? tr("chat.image", "div", { class: "sd-msg__bubble" }) : this.renderBody(kind, text),
      el("div", { class: "sd-msg__meta" }, el("span", { class: "sd-msg__status" })),
    );
    this.setState(node, state);
    return node;
  }

  setState(node, state, error) {
    node.dataset.state = state;
    const status = node.querySelector(".sd-msg__status");
    status.dataset.i18n = STATE_LABELS[state];
    status.textContent = t(STATE_LABELS[state]);
    if (state === "failed") {
      status.setAttribute("role", "button");
      status.tabIndex = 0;
      status.title = error ? errorText(error) : "";
    } else {
      status.removeAttribute("role");
      status.removeAttribute("tabindex");
      status.removeAttribute("title");
    }
  }

  place(seq, node) {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    this.seqs.splice(lo, 0, seq);
    const after = lo + 1 < this.seqs.length ? this.entries.get(this.seqs[lo + 1]).node : this.firstLocalNode();
    this.list.insertBefore(node, after || null);
  }

  firstLocalNode() {
    for (const entry of this.outbox.values()) if (entry.node.isConnected) return entry.node;
    return null;
  }

  appendLocal(entry) {
    this.outbox.set(entry.body.client_msg_id, entry);
    const status = entry.node.querySelector(".sd-msg__status");
    status.addEventListener("click", () => this.retry(entry.body.client_msg_id));
    status.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") this.retry(entry.body.client_msg_id);
    });
    this.list.append(entry.node);
    this.scrollToBottom();
  }

  // ref (optional) says what a click answered: {kind: "suggestion" | "first_question" | "handover", ...}.
  send(kind, text, ref) {
    if (!this.sessionId) return;
    const body = { session_id: this.sessionId, client_msg_id: newId(), kind, text };
    if (ref) body.ref = ref;
    this.appendLocal({ node: this.localNode(kind, text, "sending"), body });
    this.socket.sendMessage(body);
  }

  sendImage(file) {
    if (!this.sessionId) return;
    const problem = checkImage(file);
    if (problem) {
      this.onNotice(t(`err.${problem}`));
      return;
    }
    const body = { session_id: this.sessionId, client_msg_id: newId(), kind: "image" };
    const entry = { node: this.localNode("image", null, "uploading"), body, file };
    this.appendLocal(entry);
    this.upload(entry);
  }

  async upload(entry) {
    this.setState(entry.node, "uploading");
    try {
      entry.body.image_key = await uploadImage(this.api, entry.body.session_id, entry.file);
    } catch (e) {
      this.setState(entry.node, "failed", e);
      this.onNotice(errorText(e));
      return;
    }
    entry.file = null;
    this.setState(entry.node, "sending");
    this.socket.sendMessage(entry.body);
  }

  retry(clientMsgId) {
    const entry = this.outbox.get(clientMsgId);
    if (!entry || entry.node.dataset.state !== "failed") return;
    if (entry.file) {
      this.upload(entry);
      return;
    }
    this.setState(entry.node, "sending");
    this.socket.sendMessage(entry.body);
  }

  acknowledge(frame) {
    const entry = this.outbox.get(frame.client_msg_id);
    if (!entry) return;
    this.outbox.delete(frame.client_msg_id);
    if (!Number.isInteger(frame.seq) || this.entries.has(frame.seq)) {
      entry.node.remove();
      return;
    }
    // Stored but not yet echoed: keep the bubble, in seq order, until the message frame replaces it.
    entry.node.dataset.seq = frame.seq;
    this.entries.set(frame.seq, { node: entry.node, provisional: true });
    this.place(frame.seq, entry.node);
    this.setState(entry.node, frame.seq <= this.readSeq ? "read" : "sent");
  }

  fail(clientMsgId, error) {
    const entry = clientMsgId && this.outbox.get(clientMsgId);
    if (!entry) return;
    this.setState(entry.node, "failed", error);
  }

  markOwnRead(seq) {
    if (!Number.isInteger(seq) || seq <= this.readSeq) return;
    this.readSeq = seq;
    for (const s of this.seqs) {
      if (s > seq) break;
      const { node } = this.entries.get(s);
      if (node.dataset.state === "sent") this.setState(node, "read");
    }
  }

  // Tells the other side we have seen everything up to the newest message.
  markRead() {
    if (!this.sessionId || this.lastOtherSeq <= this.readSent) return;
    const seq = this.lastSeq;
    if (this.socket.send({ action: "read", session_id: this.sessionId, seq })) this.readSent = seq;
  }

  notifyTyping() {
    const now = Date.now();
    if (!this.sessionId || now - this.lastTypingAt < TYPING_THROTTLE_MS) return;
    if (this.socket.send({ action: "typing", session_id: this.sessionId })) this.lastTypingAt = now;
  }

  showTyping() {
    if (!this.typingEl) return;
    this.typingEl.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOWN_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingEl) this.typingEl.hidden = true;
  }

  stick() {
    if (this.pinned) this.scrollToBottom();
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.pinned = true;
  }
}

/** The reply box under a Conversation: text with counter, Enter to send, emoji picker and image upload. */
export class Composer {
  constructor({ conv, placeholderKey, sendKey, inputTestId, sendTestId, onNotice }) {
    this.conv = conv;
    this.onNotice = onNotice;
    this.emojiGrid = el(
      "div",
      { class: "sd-emoji-grid sd-composer__emoji", hidden: true },
      ...EMOJI.map((e) => el("button", { type: "button", text: e, "aria-label": e })),
    );
    this.emojiBtn = el("button", { type: "button", class: "sd-composer__tool", "data-i18n-title": "chat.emoji", title: t("chat.emoji") }, icon("smile"));
    this.imageBtn = el(
      "button",
      { type: "button", class: "sd-composer__tool", "data-i18n-title": "chat.imageButton", title: t("chat.imageButton") },
      icon("image"),
    );
    this.fileInput = el("input", { type: "file", accept: IMAGE_TYPES.join(","), hidden: true });
    this.input = el("textarea", {
      class: "sd-composer__input",
      rows: 2,
      "data-testid": inputTestId,
      "data-i18n-placeholder": placeholderKey,
      placeholder: t(placeholderKey),
    });
    this.counter = el("span", { class: "sd-composer__counter" });
    this.sendBtn = tr(sendKey, "button", { type: "button", class: "sd-composer__send", "data-testid": sendTestId });
    this.el = el(
      "div",
      { class: "sd-composer" },
      this.emojiGrid,
      el("div", { class: "sd-composer__tools" }, this.emojiBtn, this.imageBtn, this.fileInput),
      this.input,
      el("div", { class: "sd-composer__foot" }, this.counter, this.sendBtn),
    );

    this.input.addEventListener("input", () => {
      this.autosize();
      this.renderCounter();
      if (this.input.value) conv.notifyTyping();
    });
    this.input.addEventListener("keydown", (ev) => {
      // Enter inside an IME composition (pinyin) picks a candidate; it must not send.
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.sendText();
      }
    });
    this.sendBtn.addEventListener("click", () => this.sendText());
    this.emojiBtn.addEventListener("click", () => {
      this.emojiGrid.hidden = !this.emojiGrid.hidden;
    });
    this.emojiGrid.addEventListener("click", (ev) => {
      const btn = ev.target.closest("button");
      if (!btn) return;
      conv.send("emoji", btn.textContent);
      this.emojiGrid.hidden = true;
      this.input.focus();
    });
    // The picker closes when focus leaves the composer, without a document-wide listener per pane.
    this.el.addEventListener("focusout", (ev) => {
      if (!this.el.contains(ev.relatedTarget)) this.emojiGrid.hidden = true;
    });
    this.el.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.emojiGrid.hidden) {
        ev.stopPropagation();
        this.emojiGrid.hidden = true;
      }
    });
    this.imageBtn.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      const file = this.fileInput.files[0];
      this.fileInput.value = "";
      if (file) conv.sendImage(file);
    });
    this.renderCounter();
  }

  setEnabled(enabled) {
    this.input.disabled = !enabled;
    this.emojiBtn.disabled = !enabled;
    this.imageBtn.disabled = !enabled;
    if (!enabled) this.emojiGrid.hidden = true;
    this.renderCounter();
  }

  length() {
    return [...this.input.value].length;
  }

  renderCounter() {
    const n = this.length();
    this.counter.textContent = t("chat.counter", { n, max: MAX_TEXT });
    this.counter.classList.toggle("is-over", n > MAX_TEXT);
    this.sendBtn.disabled = this.input.disabled || !this.input.value.trim() || n > MAX_TEXT;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 140)}px`;
  }

  insert(text) {
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    this.input.value = value.slice(0, start) + text + value.slice(end);
    this.input.focus();
    this.input.selectionStart = this.input.selectionEnd = start + text.length;
    this.autosize();
    this.renderCounter();
  }

  sendText() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return;
    if ([...text].length > MAX_TEXT) {
      this.onNotice(t("err.message_too_long"));
      return;
    }
    this.conv.send("text", text);
    this.input.value = "";
    this.autosize();
    this.renderCounter();
  }
}
