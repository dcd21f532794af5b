// One execution: its graph with the path it took, a state's input / parameters / output / attempts on click, the
// event history as a table, input and output; live while it runs; parent and child executions linked.

import { sfn, history, expressExecution } from "../api.js";
import { draw, layout, legend } from "../graph.js";
import { explainRetries, interpret, nodeStatus } from "../history.js";
import { zoomButtons } from "./machines.js";
import {
  h, clear, fmtTime, fmtDuration, fmtSeconds, arnName, statusBadge, jsonBlock, parseJson, toast,
} from "../util.js";

const POLL_MS = 1000;

function findState(definition, name) {
  const search = (machine) => {
    for (const [n, state] of Object.entries(machine?.States || {})) {
      if (n === name) return state;
      for (const branch of state.Branches || []) {
        const found = search(branch);
        if (found) return found;
      }
      const inner = search(state.ItemProcessor || state.Iterator);
      if (inner) return inner;
    }
    return null;
  };
  return search(definition);
}

async function load(arn) {
  if (arn.includes(":express:")) {
    const record = await expressExecution(arn);
    const machine = await sfn("DescribeStateMachine", { stateMachineArn: record.execution.stateMachineArn });
    return { description: record.execution, events: record.events, definition: machine.definition, express: true };
  }
  const [description, events] = await Promise.all([sfn("DescribeExecution", { executionArn: arn }), history(arn)]);
  return { description, events, express: false };
}

export async function executionView(main, ctx, arn) {
  let data = await load(arn);
  if (!data.express) {
    const forExecution = await sfn("DescribeStateMachineForExecution", { executionArn: arn });
    data.definition = forExecution.definition;
  }
  const definition = JSON.parse(data.definition);
  const machineArn = data.description.stateMachineArn;
  const outputs = ctx.config.outputs || {};
  const isOrder = machineArn === outputs.OrderStateMachineArn;

  const head = h("div.page-head");
  const details = h("div.panel.details.wide");
  const graphHost = h("div.graph-host");
  const side = h("aside.state-panel#state-panel", h("p.muted", "Select a state in the graph to see its input, parameters, output and attempts."));
  const eventsHost = h("div");
  const ioHost = h("div.io");
  const tabs = tabBar([["graph", "Graph view"], ["events", "Event history"], ["io", "Execution input and output"]]);
  const tabBodies = {
    graph: h("div.tab-body", h("div.graph-layout", h("div.graph-col", h("div.panel-head", h("span.muted", "Click a state for its details"), zoomButtons(() => controller)), graphHost, legend()), side)),
    events: h("div.tab-body", eventsHost),
    io: h("div.tab-body", ioHost),
  };
  tabs.onChange((key) => { for (const [k, el] of Object.entries(tabBodies)) el.hidden = k !== key; });
  main.append(
    h("div.crumbs", h("a", { href: "#/state-machines" }, "State machines"), " › ",
      h("a", { href: `#/state-machines/${encodeURIComponent(machineArn)}` }, arnName(machineArn)), " › ",
      data.description.name),
    head, details, h("div.panel.tabs-panel", tabs.element, ...Object.values(tabBodies)));
  tabs.select("graph");

  let controller = null;
  let selected = null;
  let model = null;
  const graph = await layout(definition);
  if (!ctx.alive()) return null;
  controller = draw(graphHost, graph, { onSelect: (name) => { selected = name; showState(); } });
  controller.zoom("fit");

  function refresh() {
    model = interpret(data.events);
    renderHead();
    renderDetails();
    const statuses = new Map();
    const counts = new Map();
    for (const [name, runs] of model.byName) {
      statuses.set(name, nodeStatus(runs));
      counts.set(name, runs.length);
    }
    controller.paint({ statuses, counts, transitions: model.transitions, caughtEdges: caughtEdgesOf(model) });
    showState();
    renderEvents();
    renderIo();
  }

  function renderHead() {
    const d = data.description;
    clear(head);
    const stopButton = d.status === "RUNNING" && !data.express
      ? h("button.danger#stop-execution", { on: { click: () => stopDialog(arn, () => poll(true)) } }, "Stop execution") : null;
    head.append(h("h1", d.name, " ", statusBadge(d.status)), h("div.actions", stopButton));
  }

  function renderDetails() {
    const d = data.description;
    const input = parseJson(d.input);
    const parent = input && typeof input === "object" ? input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID : null;
    const end = d.stopDate ?? null;
    const duration = (end ?? Date.now() / 1000) - d.startDate;
    clear(details);
    details.append(h("dl",
      h("dt", "Execution ARN"), h("dd", h("code", d.executionArn)),
      h("dt", "Started"), h("dd", fmtTime(d.startDate)),
      h("dt", "State machine"), h("dd", h("a", { href: `#/state-machines/${encodeURIComponent(machineArn)}` }, arnName(machineArn)),
        " ", statusBadge(data.express ? "EXPRESS" : "STANDARD")),
      h("dt", "Ended"), h("dd", end ? fmtTime(end) : "-"),
      h("dt", "Duration"), h("dd", fmtDuration(duration), d.status === "RUNNING" ? h("span.live", " ● live") : null),
      parent ? [h("dt", "Started by"), h("dd#parent-link", h("a", { href: `#/executions/${encodeURIComponent(parent)}` }, arnName(parent)),
        h("span.muted", ` (${arnName(parent.split(":").slice(0, -1).join(":"))})`))] : null,
      model.children.length ? [h("dt", "Child executions"), h("dd#child-links", childLinks(model.children))] : null,
      isOrder ? [h("dt", "Order"), h("dd", h("a#order-link", { href: `#/orders/${encodeURIComponent(d.name)}` }, d.name))] : null,
    ));
    if (d.error || d.cause) {
      details.append(h("div.error-box#execution-error", h("div.error-name", d.error || "(no error name)"),
        d.cause ? causeBlock(d.cause) : null));
    }
  }

  function showState() {
    clear(side);
    controller.select(selected);
    if (!selected) {
      side.append(h("p.muted", "Select a state in the graph to see its input, parameters, output and attempts."));
      return;
    }
    const runs = model.byName.get(selected) || [];
    const state = findState(definition, selected) || {};
    side.append(h("h2", selected), h("div.muted", state.Type, state.Resource ? h("code.resource", state.Resource) : null));
    if (!runs.length) {
      side.append(h("p.badge-line", statusBadge("NOT REACHED")), h("p.muted", "This execution did not reach this state."));
      return;
    }
    let index = runs.length - 1;
    const body = h("div");
    if (runs.length > 1) {
      const select = h("select#run-select", { on: { change: () => { index = Number(select.value); renderRun(); } } },
        runs.map((run, i) => h("option", { value: i, selected: i === index },
          `${run.iteration.length ? `Iteration ${run.iteration.join(".")}` : `Visit ${i + 1}`} · ${run.status}`)));
      side.append(h("label.run-pick", `${runs.length} runs: `, select));
    }
    side.append(body);
    const renderRun = () => {
      clear(body);
      renderRunInto(body, runs[index], state);
    };
    renderRun();
  }

  function renderRunInto(body, run, state) {
    const enteredAt = run.entered.timestamp;
    const exitedAt = run.exited?.timestamp;
    body.append(h("div.run-status", h("span", { class: `dot st-${run.status}` }), h("strong#state-status", run.status),
      h("span.muted", ` · entered ${fmtTime(enteredAt)}`, exitedAt ? ` · ${fmtDuration(exitedAt - enteredAt)}` : "")));
    if (run.failure && (run.failure.error || run.failure.cause)) {
      body.append(h("div.error-box#state-error",
        h("div.error-name", run.failure.error || "(no error name)"),
        run.status === "caught" ? caughtLine(run, state) : null,
        run.failure.cause ? causeBlock(run.failure.cause) : null));
    }
    const attempts = explainRetries(run, state.Retry);
    const last = attempts.at(-1);
    const attemptsSection = attempts.length ? section(`Attempts (${attempts.length})`, attemptsTable(attempts), "state-attempts") : null;
    if (attempts.length > 1) body.append(attemptsSection); // retries first: they are the story of this state
    body.append(section("Input", jsonBlock(run.input), "state-input"));
    if (last) {
      body.append(section(attempts.length > 1 ? `Parameters (attempt ${attempts.length})` : "Parameters",
        jsonBlock(last.parameters), "state-parameters",
        "The effective parameters the task was called with: Parameters / Arguments resolved against the input."));
      if (last.output !== null && last.output !== undefined) body.append(section("Task result", jsonBlock(last.output), "state-result",
        "What the integration returned, before ResultSelector, ResultPath and OutputPath."));
    }
    body.append(section("Output", run.exited ? jsonBlock(run.output) : h("div.muted", run.status === "running" ? "Still running…" : "No output: the state did not exit."), "state-output"));
    if (attempts.length === 1) body.append(attemptsSection);
    if (run.children.length) body.append(section("Child execution", childLinks(run.children.map((a) => ({ arn: a }))), "state-children"));
  }

  function caughtLine(run, state) {
    const next = model.runs.find((r) => r.entered.previousEventId === run.exited?.id);
    const index = (state.Catch || []).findIndex((c) => c.Next === next?.name);
    return h("div.caught-line", "Caught", index >= 0 ? ` by Catch #${index + 1} (${state.Catch[index].ErrorEquals.join(", ")})` : "",
      next ? [" → ", h("strong", next.name)] : "");
  }

  function attemptsTable(attempts) {
    const scale = ctx.config.timeScale;
    const items = [];
    attempts.forEach((a, i) => {
      const failed = a.outcome !== "succeeded" && a.outcome !== "running";
      items.push(h(`li.attempt.attempt-${a.outcome.replace(" ", "-")}`, { dataset: { attempt: i + 1 } },
        h("div.attempt-head", h("strong", `Attempt ${i + 1}`),
          h("span.muted", ` · ${fmtTime(a.scheduled)}`, a.ended ? ` · took ${fmtDuration(a.ended - a.scheduled)}` : " · running…"),
          a.outcome === "succeeded" ? h("span.ok", " ✓ succeeded") : failed ? h("span.bad.attempt-error", ` ✗ ${a.error || a.outcome}`) : null),
        failed && a.cause ? h("div.attempt-cause", causeMessage(a.cause)) : null));
      if (a.retry) {
        const r = a.retry;
        items.push(h("li.retry-gap", { dataset: { retryAfter: r.interval } },
          h("strong", r.pending ? `↻ waiting ${fmtSeconds(r.interval)} to retry` : `↻ retried after ${fmtSeconds(r.interval)}`),
          h("span.muted", ` · Retry[${r.index}] on ${(r.retrier.ErrorEquals || []).join(", ")}: retry ${r.number} of ${r.retrier.MaxAttempts ?? 3}`,
            ` (IntervalSeconds ${r.retrier.IntervalSeconds ?? 1}, BackoffRate ${r.retrier.BackoffRate ?? 2})`),
          r.pending ? (scale !== 1 ? h("div.muted", `${fmtSeconds(r.interval)} × TIME_SCALE ${scale}`) : null)
            : h("div.muted", `measured ${fmtDuration(a.measuredWait)}${scale !== 1 ? ` at TIME_SCALE ${scale} (${fmtSeconds(r.interval)} × ${scale})` : ""}`)));
      } else if (a.measuredWait !== undefined) {
        items.push(h("li.retry-gap", h("span.muted", `next attempt after ${fmtDuration(a.measuredWait)}`)));
      }
    });
    return h("ol.attempts#attempts", items);
  }

  function renderEvents() {
    clear(eventsHost);
    const start = data.events[0]?.timestamp ?? 0;
    const runOf = new Map();
    for (const run of model.runs) for (const e of run.events) runOf.set(e.id, run);
    tabs.setCount("events", data.events.length);
    eventsHost.append(h("table.grid.events#history",
      h("thead", h("tr", h("th", "ID"), h("th", "Type"), h("th", "Step"), h("th", "Elapsed"), h("th", "Timestamp"), h("th", "Details"))),
      h("tbody", data.events.map((e) => {
        const d = Object.entries(e).find(([k]) => k.endsWith("EventDetails"))?.[1];
        const run = runOf.get(e.id);
        const failed = /Failed|TimedOut|Aborted/.test(e.type);
        return h("tr", { class: failed ? "event-failed" : e.type.endsWith("Succeeded") ? "event-ok" : "" },
          h("td", String(e.id)),
          h("td.type", e.type),
          h("td", run ? h("a", { href: "#", on: { click: (ev) => { ev.preventDefault(); selected = run.name; tabs.select("graph"); showState(); } } }, run.name) : ""),
          h("td", `${Math.round((e.timestamp - start) * 1000)} ms`),
          h("td", fmtTime(e.timestamp)),
          h("td", d ? h("details", h("summary", summary(d)), h("pre.json", JSON.stringify(expand(d), null, 2))) : ""));
      }))));
  }

  function renderIo() {
    clear(ioHost);
    const d = data.description;
    ioHost.append(h("div.io-grid", h("div", h("h3", "Input"), jsonBlock(d.input, "execution-input")),
      h("div", h("h3", "Output"), d.output !== undefined ? jsonBlock(d.output, "execution-output") : h("div.muted", d.status === "RUNNING" ? "Still running…" : "No output"))));
  }

  let timer = null;
  async function poll(force = false) {
    if (!ctx.alive()) return;
    if (!force && data.description.status !== "RUNNING") return;
    try {
      const next = await load(arn);
      next.definition = data.definition;
      if (!ctx.alive()) return;
      const changed = next.events.length !== data.events.length || next.description.status !== data.description.status;
      data = next;
      if (changed) refresh();
      else renderDetails();
    } catch (error) {
      if (error.status !== 404) toast(`Refresh failed: ${error.message}`, "error");
    }
  }
  refresh();
  // open on what matters: the first state that failed or whose error was caught (its error and cause), else the
  // state running now, else the start
  const focus = model.runs.find((r) => (r.status === "failed" || r.status === "caught") && r.failure?.error)
    || model.runs.find((r) => r.status === "running" && !["Parallel", "Map"].includes(r.type));
  if (focus) {
    selected = focus.name;
    showState();
  }
  requestAnimationFrame(() => controller.reveal(focus?.name));
  timer = setInterval(() => poll(), POLL_MS);
  return () => clearInterval(timer);
}

function caughtEdgesOf(model) {
  // "from->to" transitions out of a caught run go along its Catch edge
  const keys = new Set();
  model.runs.forEach((run) => {
    if (run.status !== "caught") return;
    for (const other of model.runs) {
      if (other.entered.previousEventId === run.exited?.id) keys.add(`${run.name}->${other.name}`);
    }
  });
  return keys;
}

function childLinks(children) {
  return h("ul.links", children.map((c) => h("li", h("a.child-link", { href: `#/executions/${encodeURIComponent(c.arn)}` }, arnName(c.arn)),
    c.state ? h("span.muted", ` from ${c.state}`) : null)));
}

function section(title, content, id, hint) {
  return h("section.detail", { id }, h("h3", title, hint ? h("span.hint-i", { title: hint }, "?") : null), content);
}

function clipText(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** The message of a cause: a Lambda error's errorMessage, else the cause itself. */
function causeMessage(cause) {
  const parsed = parseJson(cause);
  return parsed && typeof parsed === "object" && typeof parsed.errorMessage === "string" ? parsed.errorMessage : clipText(String(cause), 300);
}

/** A cause as people read it: a Lambda error's message first, its stack trace folded; other JSON indented. */
export function causeBlock(cause) {
  const parsed = parseJson(cause);
  if (parsed && typeof parsed === "object" && typeof parsed.errorMessage === "string") {
    return h("div.cause",
      h("div.cause-message", parsed.errorMessage),
      parsed.errorType ? h("div.muted", "errorType ", h("code", parsed.errorType)) : null,
      Array.isArray(parsed.stackTrace) && parsed.stackTrace.length
        ? h("details", h("summary", `Stack trace (${parsed.stackTrace.length} frames)`), h("pre.cause", parsed.stackTrace.join(""))) : null);
  }
  return h("pre.cause", parsed !== undefined && typeof parsed === "object" ? JSON.stringify(parsed, null, 2) : cause);
}

function summary(details) {
  if (details.name) return details.name;
  if (details.error) return details.error;
  if (details.resource) return `${details.resourceType || ""} ${details.resource}`.trim();
  return Object.keys(details).slice(0, 3).join(", ");
}

function expand(details) {
  const out = {};
  for (const [key, value] of Object.entries(details)) {
    out[key] = (key === "input" || key === "output" || key === "parameters") && typeof value === "string"
      ? parseJson(value) ?? value : value;
  }
  return out;
}

function tabBar(items) {
  const buttons = new Map();
  let listener = () => {};
  const element = h("div.tabs", items.map(([key, label]) => {
    const button = h("button.tab", { dataset: { tab: key }, on: { click: () => api.select(key) } }, label, h("span.count"));
    buttons.set(key, button);
    return button;
  }));
  const api = {
    element,
    onChange(fn) { listener = fn; },
    select(key) {
      for (const [k, b] of buttons) b.classList.toggle("active", k === key);
      listener(key);
    },
    setCount(key, n) { buttons.get(key).querySelector(".count").textContent = ` (${n})`; },
  };
  return api;
}

function stopDialog(arn, after) {
  const error = h("div.error-text");
  const dialog = h("dialog.modal",
    h("h2", "Stop execution?"),
    h("p", "The execution ", h("code", arnName(arn)), " ends ABORTED; a running task is not rolled back."),
    error,
    h("div.actions", h("button", { on: { click: () => dialog.close() } }, "Cancel"),
      h("button.danger#confirm-stop", { on: { click: async () => {
        try {
          await sfn("StopExecution", { executionArn: arn });
          dialog.close();
          toast("Execution stopped", "ok");
          after();
        } catch (e) {
          error.textContent = e.message;
        }
      } } }, "Stop execution")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
