// The console's shell: hash routes -> views. Each view renders into <main> and returns a cleanup (stops polling).

import { config } from "./api.js";
import { h, clear } from "./util.js";
import { machinesView, machineView } from "./views/machines.js";
import { executionView } from "./views/execution.js";
import { ordersView } from "./views/orders.js";
import { queuesView } from "./views/queues.js";

const main = document.getElementById("main");
let cleanup = null;
let generation = 0;

const routes = [
  [/^#\/state-machines\/?$/, () => machinesView],
  [/^#\/state-machines\/([^/?]+)/, (m) => (el, ctx) => machineView(el, ctx, decodeURIComponent(m[1]))],
  [/^#\/executions\/([^/?]+)/, (m) => (el, ctx) => executionView(el, ctx, decodeURIComponent(m[1]))],
  [/^#\/orders\/?([^/?]*)/, (m) => (el, ctx) => ordersView(el, ctx, m[1] ? decodeURIComponent(m[1]) : null)],
  [/^#\/queues\/?$/, () => queuesView],
];

async function render() {
  const hash = location.hash || "#/state-machines";
  if (cleanup) {
    try { cleanup(); } catch { /* a view's cleanup must not stop navigation */ }
    cleanup = null;
  }
  const mine = ++generation;
  clear(main);
  for (const link of document.querySelectorAll("nav a")) {
    const section = link.dataset.nav;
    const active = hash.startsWith(`#/${section}`) || (section === "state-machines" && hash.startsWith("#/executions"));
    link.classList.toggle("active", active);
  }
  const match = routes.map(([re, view]) => [hash.match(re), view]).find(([m]) => m);
  if (!match) {
    main.append(h("div.panel", h("h2", "Not found"), h("p", "No page at ", h("code", hash), ".")));
    return;
  }
  const [m, make] = match;
  const ctx = { alive: () => mine === generation, config: await config() };
  try {
    cleanup = (await make(m)(main, ctx)) || null;
    if (mine !== generation && cleanup) cleanup();
  } catch (error) {
    if (mine !== generation) return;
    main.append(h("div.error-box", h("strong", "Could not load this page: "), String(error.message || error)));
  }
}

async function header() {
  const cfg = await config();
  const info = document.getElementById("stack-info");
  clear(info);
  info.append(
    h("span.chip", { title: "CloudFormation stack name of the local runtime" }, `stack ${cfg.stack || "-"}`),
    h("span.chip", { title: "TIME_SCALE scales Wait states, Retry intervals, callback timeouts and SQS visibility" },
      `TIME_SCALE ${cfg.timeScale}`),
    h("span.chip.local", { title: "Everything is in memory and served from 127.0.0.1" }, "local · in memory"),
  );
}

window.addEventListener("hashchange", render);
header();
render();
