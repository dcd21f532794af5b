// Small DOM and formatting helpers of the console (no framework).

/** h("div.cls#id", {attrs, on: {click}}, ...children): an element. Children: nodes, strings, arrays, null. */
export function h(spec, attrs, ...children) {
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const [, tag, rest] = spec.match(/^([a-z0-9-]+)?(.*)$/i);
  const el = document.createElement(tag || "div");
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** epoch seconds -> "2026-12-04 21:04:05.123" (local time) */
export function fmtTime(epoch) {
  if (epoch === undefined || epoch === null) return "-";
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** seconds -> "850 ms", "5.02 s", "2 min 3 s", "1 h 2 min" */
export function fmtDuration(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return "-";
  if (seconds < 0) seconds = 0;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** A configured duration in seconds (from the ASL): "5 s", "2 min", "1.5 s" */
export function fmtSeconds(seconds) {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Number(seconds.toFixed(3))} s`;
}

export function pretty(text) {
  if (text === undefined || text === null) return "";
  if (typeof text !== "string") return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The name part of an ARN: arn:aws:states:r:a:execution:machine:name -> name */
export function arnName(arn) {
  return (arn || "").split(":").pop();
}

/** A <pre> with JSON, or a muted dash. */
export function jsonBlock(value, cls = "") {
  if (value === undefined || value === null || value === "") return h("div.muted", "-");
  return h(`pre.json${cls ? "." + cls : ""}`, pretty(value));
}

export function statusBadge(status) {
  const known = ["SUCCEEDED", "FAILED", "RUNNING", "ABORTED", "TIMED_OUT", "PENDING_REDRIVE", "FULFILLED",
    "AWAITING_APPROVAL", "PROCESSING", "RECEIVED", "COMPLETED", "CANCELLED", "CANCELLING", "STANDARD", "EXPRESS"];
  const cls = known.includes(status) ? status.toLowerCase() : "other";
  return h(`span.badge.b-${cls}`, { "data-status": status }, status.replace("_", " "));
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** DynamoDB attribute values -> plain JSON. */
export function unmarshal(value) {
  if (value === null || typeof value !== "object") return value;
  const [type, v] = Object.entries(value)[0] || [];
  switch (type) {
    case "S": return v;
    case "N": return Number(v);
    case "BOOL": return v;
    case "NULL": return null;
    case "M": return unmarshalItem(v);
    case "L": return v.map(unmarshal);
    case "SS": return v;
    case "NS": return v.map(Number);
    case "B": return v;
    case "BS": return v;
    default: return value;
  }
}

export function unmarshalItem(item) {
  const out = {};
  for (const [key, value] of Object.entries(item || {})) out[key] = unmarshal(value);
  return out;
}

export function money(cents) {
  if (typeof cents !== "number") return "-";
  return `$${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A short message at the bottom of the page (kind: info, ok, error). */
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}
