// State machines: the list, and one machine (its graph, its executions with filters and pages, Start execution).

import { sfn, expressExecutions } from "../api.js";
import { draw, layout, legend } from "../graph.js";
import { h, clear, fmtTime, fmtDuration, arnName, statusBadge, debounce, toast, parseJson } from "../util.js";

export async function machinesView(main, ctx) {
  main.append(h("div.page-head", h("h1", "State machines")));
  const body = h("div.panel", h("p.muted", "Loading…"));
  main.append(body);
  const machines = [];
  let nextToken;
  do {
    const page = await sfn("ListStateMachines", { maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
    machines.push(...page.stateMachines);
    nextToken = page.nextToken;
  } while (nextToken);
  const outputs = ctx.config.outputs || {};
  const ours = new Map(Object.entries(outputs).filter(([, v]) => typeof v === "string" && v.includes(":stateMachine:"))
    .map(([k, v]) => [v, k]));
  clear(body);
  body.append(h("table.grid#machines",
    h("thead", h("tr", h("th", "Name"), h("th", "Type"), h("th", "Created"), h("th", "Stack output"))),
    h("tbody", machines.map((m) => h("tr", { dataset: { machine: m.name } },
      h("td", h("a", { href: `#/state-machines/${encodeURIComponent(m.stateMachineArn)}` }, m.name)),
      h("td", statusBadge(m.type)),
      h("td", fmtTime(m.creationDate)),
      h("td.muted", ours.get(m.stateMachineArn) || "")))),
  ));
  if (!machines.length) body.append(h("p.muted", "No state machine yet."));
  body.append(h("p.hint", "Every state machine of the endpoint is listed, those of template.yaml and any created with ",
    h("code", "aws stepfunctions create-state-machine"), "."));
}

const PAGE = 50;
const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export async function machineView(main, ctx, arn) {
  const machine = await sfn("DescribeStateMachine", { stateMachineArn: arn });
  const express = machine.type === "EXPRESS";
  const definition = JSON.parse(machine.definition);
  const graphHost = h("div.graph-host");
  const startButton = h("button.primary#start-execution", { on: { click: () => startDialog(machine) } }, "Start execution");
  main.append(
    h("div.crumbs", h("a", { href: "#/state-machines" }, "State machines"), " › ", machine.name),
    h("div.page-head", h("h1", machine.name, " ", statusBadge(machine.type)), h("div.actions", startButton)),
    h("div.panel.details",
      h("dl",
        h("dt", "ARN"), h("dd", h("code", machine.stateMachineArn)),
        h("dt", "Type"), h("dd", express
          ? "Express: at most 5 minutes, no execution history in the Step Functions API (AWS shows these executions from CloudWatch Logs; this console records the last " + ctx.config.expressRecordLimit + ")"
          : "Standard: up to a year, exactly-once, full execution history"),
        h("dt", "Created"), h("dd", fmtTime(machine.creationDate)),
        definition.Comment ? [h("dt", "Comment"), h("dd.comment", definition.Comment)] : null,
      )),
  );
  const listPanel = h("div.panel", h("h2", "Executions"));
  const graphPanel = h("div.panel", h("div.panel-head", h("h2", "Definition"), zoomButtons(() => controller)), graphHost, legend());
  main.append(listPanel, graphPanel);
  let controller = null;
  layout(definition).then((graph) => {
    if (!ctx.alive()) return;
    controller = draw(graphHost, graph, {});
    controller.paint({});
    controller.zoom("fit");
    controller.reveal(null);
  }).catch((error) => graphHost.append(h("div.error-box", `Could not draw the graph: ${error.message}`)));

  const stop = express ? await expressList(listPanel, ctx, machine) : await standardList(listPanel, ctx, machine);
  return stop;
}

export function zoomButtons(getController) {
  const button = (text, factor, title) => h("button.small", { title, on: { click: () => getController()?.zoom(factor) } }, text);
  return h("div.zoom", button("−", 1 / 1.25, "Zoom out"), button("Fit", "fit", "Fit to width"), button("+", 1.25, "Zoom in"));
}

async function standardList(panel, ctx, machine) {
  const status = h("select#status-filter", STATUSES.map((s) => h("option", { value: s }, s ? s.replace("_", " ") : "All statuses")));
  const name = h("input#name-filter", { type: "search", placeholder: "Filter by name (contains)", size: 28 });
  const info = h("span.muted.page-info");
  const prev = h("button.small#prev-page", "‹ Previous");
  const next = h("button.small#next-page", "Next ›");
  const refresh = h("label.small", h("input", { type: "checkbox", checked: true, id: "auto-refresh" }), " auto-refresh");
  const tbody = h("tbody");
  panel.append(
    h("div.toolbar", status, name, refresh, h("span.spacer"), info, prev, next),
    h("table.grid#executions", h("thead", h("tr", h("th", "Name"), h("th", "Status"), h("th", "Started"),
      h("th", "Ended"), h("th", "Duration"))), tbody),
  );
  // pages: each page starts at a ListExecutions nextToken (undefined = the newest); a name filter scans pages of
  // 1000 until it has PAGE matches
  let pages = [undefined];
  let index = 0;
  let loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    try {
      const filter = name.value.trim().toLowerCase();
      const rows = [];
      let token = pages[index];
      let scanned = 0;
      do {
        const page = await sfn("ListExecutions", { stateMachineArn: machine.stateMachineArn,
          maxResults: filter ? 1000 : PAGE, ...(status.value ? { statusFilter: status.value } : {}),
          ...(token ? { nextToken: token } : {}) });
        scanned += page.executions.length;
        rows.push(...(filter ? page.executions.filter((e) => e.name.toLowerCase().includes(filter)) : page.executions));
        token = page.nextToken;
      } while (filter && token && rows.length < PAGE);
      if (!ctx.alive()) return;
      pages = pages.slice(0, index + 1);
      if (token) pages.push(token);
      prev.disabled = index === 0;
      next.disabled = !token;
      info.textContent = `Page ${index + 1}${filter ? ` · ${rows.length} match${rows.length === 1 ? "" : "es"} in ${scanned} scanned` : ""}`;
      clear(tbody);
      for (const e of rows) tbody.append(executionRow(e));
      if (!rows.length) tbody.append(h("tr", h("td.muted", { colSpan: 5 }, "No executions.")));
    } finally {
      loading = false;
    }
  }
  prev.addEventListener("click", () => { index = Math.max(0, index - 1); load(); });
  next.addEventListener("click", () => { index += 1; load(); });
  status.addEventListener("change", () => { pages = [undefined]; index = 0; load(); });
  name.addEventListener("input", debounce(() => { pages = [undefined]; index = 0; load(); }, 250));
  await load();
  const timer = setInterval(() => {
    if (refresh.querySelector("input").checked && index === 0 && !name.value) load().catch(() => {});
  }, 2000);
  return () => clearInterval(timer);
}

function executionRow(e) {
  const duration = e.stopDate ? e.stopDate - e.startDate : Date.now() / 1000 - e.startDate;
  return h("tr", { dataset: { execution: e.name } },
    h("td", h("a", { href: `#/executions/${encodeURIComponent(e.executionArn)}` }, e.name)),
    h("td", statusBadge(e.status)),
    h("td", fmtTime(e.startDate)),
    h("td", e.stopDate ? fmtTime(e.stopDate) : "-"),
    h("td", fmtDuration(duration)));
}

async function expressList(panel, ctx, machine) {
  const tbody = h("tbody");
  panel.append(
    h("p.hint", "Express executions (StartSyncExecution and StartExecution) as the runtime ended them, the most recent first. ",
      "AWS's API does not list them: its console reads them from CloudWatch Logs."),
    h("table.grid#executions", h("thead", h("tr", h("th", "Name"), h("th", "Status"), h("th", "Started"),
      h("th", "Ended"), h("th", "Duration"))), tbody));
  async function load() {
    const { executions } = await expressExecutions(machine.stateMachineArn);
    if (!ctx.alive()) return;
    clear(tbody);
    for (const e of executions) tbody.append(executionRow(e));
    if (!executions.length) tbody.append(h("tr", h("td.muted", { colSpan: 5 }, "No Express execution recorded yet.")));
  }
  await load();
  const timer = setInterval(() => load().catch(() => {}), 2000);
  return () => clearInterval(timer);
}

export function startDialog(machine) {
  const nameInput = h("input#execution-name", { type: "text", placeholder: "(generated)", size: 40 });
  const input = h("textarea#execution-input", { rows: 14, spellcheck: false },
    JSON.stringify({ Comment: "Insert your JSON here" }, null, 2));
  const error = h("div.error-text");
  const dialog = h("dialog.modal",
    h("h2", `Start execution: ${machine.name}`),
    h("label", "Name ", h("span.muted", "(optional, unique; leave empty for a generated one)"), nameInput),
    h("label", "Input ", h("span.muted", "(JSON)"), input),
    error,
    h("div.actions",
      h("button", { on: { click: () => dialog.close() } }, "Cancel"),
      h("button.primary#confirm-start", { on: { click: start } }, "Start execution")));

  async function start() {
    const text = input.value;
    if (parseJson(text) === undefined) {
      error.textContent = "The input is not valid JSON.";
      return;
    }
    try {
      const result = await sfn("StartExecution", { stateMachineArn: machine.stateMachineArn, input: text,
        ...(nameInput.value.trim() ? { name: nameInput.value.trim() } : {}) });
      dialog.close();
      toast(`Started ${arnName(result.executionArn)}`, "ok");
      location.hash = `#/executions/${encodeURIComponent(result.executionArn)}`;
    } catch (e) {
      error.textContent = e.message;
    }
  }
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
