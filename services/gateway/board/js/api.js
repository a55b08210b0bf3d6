// The public REST API (/api/v1), with the caller's bearer token kept for the browser tab.
const BASE = "/api/v1";
const KEY = "dealflow.tokens";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  // [{field, message}] of a problem+json answer (a 422 names each field).
  get errors() {
    return this.problem.errors || [];
  }
}

const tokens = () => JSON.parse(sessionStorage.getItem(KEY) || "null");

export const signedIn = () => tokens() !== null;

export async function signIn(email, password) {
  const body = new URLSearchParams({ username: email, password });
  const resp = await fetch(`${BASE}/auth/token`, { method: "POST", body });
  const data = await resp.json();
  if (!resp.ok) throw new ApiError(resp.status, data);
  sessionStorage.setItem(KEY, JSON.stringify(data));
}

export async function signOut() {
  try {
    await request("POST", "/auth/logout");
  } finally {
    sessionStorage.removeItem(KEY);
  }
}

// A fresh access token from the refresh token (false when there is none, or it expired).
export async function refresh() {
  const current = tokens();
  if (!current || !current.refresh_token) return false;
  const resp = await fetch(`${BASE}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh_token }),
  });
  if (!resp.ok) return false;
  sessionStorage.setItem(KEY, JSON.stringify(await resp.json()));
  return true;
}

export const bearer = () => `Bearer ${tokens()?.access_token ?? ""}`;

export async function request(method, path, body, { retried = false, extra = {} } = {}) {
  const headers = { authorization: bearer(), ...extra };
  const init = { method, headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
    if (method === "POST") headers["idempotency-key"] = crypto.randomUUID();
  }
  const resp = await fetch(BASE + path, init);
  if (resp.status === 401 && !retried && (await refresh())) {
    return request(method, path, body, { retried: true, extra });
  }
  if (resp.status === 401) {
    sessionStorage.removeItem(KEY);
    location.hash = "#/signin";
  }
  if (resp.status === 204) return null;
  const data = await resp.json();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);
export const put = (path, body) => request("PUT", path, body);
// A change based on `version` (If-Match): a stale one is refused (409).
export const patch = (path, body, version) =>
  request("PATCH", path, body, { extra: { "if-match": `W/"${version}"` } });

// Every item of a paged list (`{items, next_cursor}`), or a plain list as it is.
export async function all(path) {
  const first = await get(path);
  if (Array.isArray(first)) return first;
  const items = [...first.items];
  let cursor = first.next_cursor;
  while (cursor) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get(`${path}${sep}cursor=${encodeURIComponent(cursor)}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  }
  return items;
}
