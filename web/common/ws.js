// WebSocket client: heartbeat, reconnect with backoff, catch-up of missed messages and an outbox that
// resends unacknowledged messages with their original client_msg_id (the server dedupes retries).
import { sessionPath } from "./api.js";

// API Gateway drops idle connections after 10 minutes.
const HEARTBEAT_MS = 5 * 60 * 1000;
const BASE_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

// crypto.randomUUID only exists in secure contexts; getRandomValues works everywhere.
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class ChatSocket {
  /**
   * getUrl(): Promise<string> — called before every connection attempt, so a renewed token is used.
   * tracked(): [{sessionId, lastSeq}] — sessions whose missed messages are fetched after a reconnect.
   * onFrame(frame), onState("connecting"|"open"|"closed"), onOpen(reconnected), onConnectFailed(count).
   */
  constructor({ getUrl, api, tracked, onFrame, onState, onOpen, onConnectFailed }) {
    Object.assign(this, { getUrl, api, tracked, onFrame, onState, onOpen, onConnectFailed });
    this.ws = null;
    this.connecting = false;
    this.state = "closed";
    this.stopped = true;
    this.everOpened = false;
    this.failures = 0;
    this.attempt = 0;
    this.pending = new Map();
    this.retryTimer = null;
    this.heartbeat = null;
    this.handleOnline = () => {
      if (!this.ws && !this.stopped) this.connect();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.handleOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.handleOnline);
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setState("closed");
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState?.(state);
  }

  async connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped || this.ws || this.connecting) return;
    this.connecting = true;
    this.setState("connecting");
    let ws;
    try {
      const url = await this.getUrl();
      if (this.stopped) return;
      ws = new WebSocket(url);
    } catch {
      this.failed();
      return;
    } finally {
      this.connecting = false;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.failures = 0;
      this.attempt = 0;
      this.setState("open");
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.send({ action: "ping" }), HEARTBEAT_MS);
      this.onOpen?.(reconnected);
      for (const frame of this.pending.values()) this.send(frame);
      if (reconnected) this.catchUp();
    };
    ws.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") this.dispatch(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.heartbeat);
      if (this.stopped) return;
      if (opened) this.scheduleReconnect();
      else this.failed();
    };
  }

  failed() {
    this.failures += 1;
    this.onConnectFailed?.(this.failures);
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setState("closed");
    if (this.stopped) return;
    // Exponential backoff with jitter so a fleet of clients does not reconnect in lockstep.
    const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), cap / 2 + Math.random() * (cap / 2));
  }

  async catchUp() {
    for (const { sessionId, lastSeq } of this.tracked?.() || []) {
      try {
        const items = await this.api.getAll(sessionPath(sessionId, "/messages"), { since: lastSeq });
        for (const message of items) this.dispatch({ type: "message", session_id: sessionId, message });
      } catch {
        // The next reconnect or a page reload fetches them again.
      }
    }
  }

  dispatch(frame) {
    if (frame.type === "ack") this.pending.delete(frame.client_msg_id);
    else if (frame.type === "message" && frame.message?.client_msg_id) this.pending.delete(frame.message.client_msg_id);
    else if (frame.type === "error" && frame.request_id) this.pending.delete(frame.request_id);
    this.onFrame?.(frame);
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Stops retrying a message whose conversation was closed or replaced.
  discard(clientMsgId) {
    this.pending.delete(clientMsgId);
  }

  // Queues a sendMessage until it is acknowledged; request_id = client_msg_id so errors map back to it.
  sendMessage(body) {
    const clientMsgId = body.client_msg_id || newId();
    const frame = { action: "sendMessage", ...body, client_msg_id: clientMsgId, request_id: clientMsgId };
    this.pending.set(clientMsgId, frame);
    this.send(frame);
    return clientMsgId;
  }
}
