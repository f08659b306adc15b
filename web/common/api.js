// REST client for the ShopDesk API: bearer token, JSON in and out, errors as ApiError {status, code, message}.

export class ApiError extends Error {
  // body: the whole error document, for details such as a validation error's field or errors[].
  constructor(status, code, message, requestId, body = null) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.body = body && typeof body === "object" ? body : null;
  }
}

export function joinUrl(base, path) {
  return String(base || "").replace(/\/+$/, "") + path;
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export class Api {
  // getToken may be async; onUnauthorized is awaited on a 401 and returns true when a retry makes sense.
  constructor({ baseUrl, getToken, onUnauthorized }) {
    this.baseUrl = baseUrl;
    this.getToken = getToken;
    this.onUnauthorized = onUnauthorized;
  }

  async request(method, path, { body, query, auth = true, retried = false } = {}) {
    let url = joinUrl(this.baseUrl, path);
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
      }
      const qs = params.toString();
      if (qs) url += (url.includes("?") ? "&" : "?") + qs;
    }
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = await this.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "network", e.message);
    }
    if (res.status === 401 && auth && !retried && this.onUnauthorized && (await this.onUnauthorized())) {
      return this.request(method, path, { body, query, auth, retried: true });
    }
    const data = await readJson(res);
    if (!res.ok) {
      throw new ApiError(res.status, data?.code || `http_${res.status}`, data?.message || res.statusText, data?.request_id, data);
    }
    return data;
  }

  get(path, query, opts = {}) {
    return this.request("GET", path, { ...opts, query });
  }

  post(path, body = {}, opts = {}) {
    return this.request("POST", path, { ...opts, body });
  }

  put(path, body = {}, opts = {}) {
    return this.request("PUT", path, { ...opts, body });
  }

  patch(path, body = {}, opts = {}) {
    return this.request("PATCH", path, { ...opts, body });
  }

  delete(path, query, opts = {}) {
    return this.request("DELETE", path, { ...opts, query });
  }

  // Follows next_cursor until the listing is exhausted (bounded, so a misbehaving cursor cannot loop forever).
  async getAll(path, query = {}, maxPages = 20) {
    const items = [];
    let cursor;
    for (let page = 0; page < maxPages; page += 1) {
      const data = await this.get(path, { ...query, cursor });
      items.push(...(data?.items || []));
      cursor = data?.next_cursor;
      if (!cursor) break;
    }
    return items;
  }
}

export function sessionPath(sessionId, suffix = "") {
  return `/sessions/${encodeURIComponent(sessionId)}${suffix}`;
}
