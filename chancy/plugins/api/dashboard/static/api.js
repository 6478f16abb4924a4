// The HTTP client of the dashboard.
//
// Every URL is relative to the folder this module was served from, so the dashboard works
// at "/" and equally when the ASGI app is mounted under a prefix such as "/admin/jobs/".
// The bearer token lives in localStorage under a key that includes that folder, so two
// mounted dashboards on one host keep separate logins.

export const ROOT = new URL("./", import.meta.url);
const TOKEN_KEY = `chancy.token:${ROOT.pathname}`;

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Raised for 401/403: the router sends the user to the login page. */
export class AuthRequired extends ApiError {}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export function apiUrl(path, params) {
  const url = new URL(`api/v1/${path.replace(/^\//, "")}`, ROOT);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

function errorMessage(body, status) {
  if (body && typeof body === "object") {
    const e = body.error ?? body.detail ?? body.message;
    if (typeof e === "string") return e;
    if (e) return JSON.stringify(e);
  }
  if (typeof body === "string" && body) return body;
  return `Request failed with status ${status}`;
}

/** Call the API: request("jobs", {params, method, body}) -> parsed JSON. */
export async function request(path, { method = "GET", params, body, signal, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (auth) {
    if (!token) throw new AuthRequired(401, "Please log in.");
    headers.Authorization = `Bearer ${token}`;
  }
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(apiUrl(path, params), { method, headers, body: payload, signal });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (response.status === 401 || (response.status === 403 && auth)) {
    setToken(null);
    throw new AuthRequired(response.status, errorMessage(data, response.status), data);
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(data, response.status), data);
  return data;
}

export const get = (path, params, signal) => request(path, { params, signal });
export const post = (path, body) => request(path, { method: "POST", body: body ?? {} });
export const patch = (path, body) => request(path, { method: "PATCH", body });
export const del = (path, params) => request(path, { method: "DELETE", params });

export async function login(username, password) {
  const data = await request("login", { method: "POST", body: { username, password }, auth: false });
  const token = data && data.token;
  if (!token) throw new ApiError(500, "The server accepted the login but sent no token.", data);
  setToken(token);
  return token;
}

export async function logout() {
  try {
    if (getToken()) await request("logout", { method: "POST", body: {} });
  } catch {
    // The token is dropped either way; a failed revoke only means it stays valid server-side.
  } finally {
    setToken(null);
  }
}

/** The websocket URL of the event stream, carrying the token as upstream does. */
export function eventsUrl() {
  const url = apiUrl("ws", { token: getToken() });
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

/** A list from a response that is either a list or an object wrapping one. */
export function asList(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of [...keys, "items", "results", "data"]) {
    if (data && Array.isArray(data[key])) return data[key];
  }
  if (data && typeof data === "object") return Object.values(data);
  return [];
}

let configuration = null;

/** The server's configuration (enabled plugins), fetched once per login. */
export async function getConfiguration() {
  if (!configuration) configuration = await get("configuration");
  return configuration;
}

export function resetConfiguration() {
  configuration = null;
}

/** Whether a plugin (by identifier or class name, e.g. "metrics") is enabled on the server. */
export async function hasPlugin(name) {
  const config = await getConfiguration();
  const plugins = [
    ...asList(config && config.plugins !== undefined ? config.plugins : config),
    ...asList(config && config.identifiers),
  ];
  const wanted = name.toLowerCase();
  return plugins.some((p) => {
    const label = typeof p === "string" ? p : JSON.stringify(p);
    return label.toLowerCase().includes(wanted);
  });
}

/**
 * Metrics whose key starts with `prefix`, as {key: {type, data: [{timestamp, value}]}}.
 * Accepts upstream's mapping and a list of {key, type, data|points} alike.
 */
export async function fetchMetrics(prefix, resolution, signal) {
  const data = await get(`metrics/${encodeURIComponent(prefix)}`, { resolution }, signal);
  const out = {};
  const list = data && Array.isArray(data.metrics) ? data.metrics : Array.isArray(data) ? data : null;
  if (list) {
    for (const m of list) out[m.key ?? m.name] = { type: m.type ?? m.metric_type, data: m.data ?? m.points ?? [] };
    return out;
  }
  for (const [key, m] of Object.entries(data || {})) {
    if (m && typeof m === "object") out[key] = { type: m.type ?? m.metric_type, data: m.data ?? m.points ?? [] };
  }
  return out;
}
