// A state machine's graph from its ASL, as the AWS console draws it: Start and End, one box per state (name and
// what it does), Choice branches labelled with their rules, Catch edges dashed and labelled with the errors they
// catch, Parallel branches and Map item processors as nested groups. elkjs (node_modules, served locally) lays it
// out; this module draws the SVG and colours it for an execution.

import { svg, clear, h } from "./util.js";

const START = "__start__";
const END = "__end__";
const NODE_H = 46;
const FONT = "13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const SMALL = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LABEL_FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const MAX_LABEL = 44;

let measureCtx;
function textWidth(text, font) {
  measureCtx ??= document.createElement("canvas").getContext("2d");
  measureCtx.font = font;
  return Math.ceil(measureCtx.measureText(text).width);
}

// -- what a state does, in words ------------------------------------------------------------------------------------

const SERVICE_NAMES = {
  lambda: "Lambda", sns: "SNS", sqs: "SQS", dynamodb: "DynamoDB", events: "EventBridge", states: "Step Functions",
  ecs: "ECS", batch: "Batch", glue: "Glue", s3: "S3", athena: "Athena", sagemaker: "SageMaker", http: "HTTP",
  apigateway: "API Gateway", "aws-sdk": "SDK",
};

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

export function describeState(state) {
  switch (state.Type) {
    case "Task": return describeResource(state.Resource || "");
    case "Choice": return "Choice";
    case "Wait": {
      if (state.Seconds !== undefined) return `Wait ${state.Seconds} s`;
      if (state.SecondsPath) return `Wait ${state.SecondsPath}`;
      return state.Timestamp || state.TimestampPath ? "Wait until a time" : "Wait";
    }
    case "Parallel": return `Parallel · ${(state.Branches || []).length} branches`;
    case "Map": {
      const mode = state.ItemProcessor?.ProcessorConfig?.Mode === "DISTRIBUTED" ? "Distributed map" : "Map";
      return state.MaxConcurrency ? `${mode} · max ${state.MaxConcurrency} at a time` : mode;
    }
    case "Pass": return "Pass";
    case "Succeed": return "Succeed";
    case "Fail": return state.Error ? `Fail · ${state.Error}` : "Fail";
    default: return state.Type || "";
  }
}

function describeResource(resource) {
  let pattern = "";
  let base = resource;
  for (const suffix of [".waitForTaskToken", ".sync:2", ".sync"]) {
    if (base.endsWith(suffix)) {
      pattern = suffix === ".waitForTaskToken" ? " (callback)" : " (run a job)";
      base = base.slice(0, -suffix.length);
      break;
    }
  }
  const parts = base.split(":");
  if (base.startsWith("arn:aws:states:::aws-sdk:")) return `${SERVICE_NAMES[parts[6]] || cap(parts[6])}: ${cap(parts[7])}${pattern}`;
  if (base.startsWith("arn:aws:states:::")) {
    const service = parts[5];
    return `${SERVICE_NAMES[service] || cap(service)}: ${cap(parts[6] || "")}${pattern}`;
  }
  if (parts[2] === "lambda") return `Lambda: ${parts[6] || "function"}`;
  if (parts[2] === "states" && parts[5] === "activity") return `Activity: ${parts[6]}`;
  return resource;
}

// -- Choice rules as text -------------------------------------------------------------------------------------------

const OPS = [
  ["StringEquals", "=="], ["StringLessThanEquals", "<="], ["StringGreaterThanEquals", ">="],
  ["StringLessThan", "<"], ["StringGreaterThan", ">"], ["StringMatches", "matches"],
  ["NumericEquals", "=="], ["NumericLessThanEquals", "<="], ["NumericGreaterThanEquals", ">="],
  ["NumericLessThan", "<"], ["NumericGreaterThan", ">"],
  ["BooleanEquals", "=="], ["TimestampEquals", "=="], ["TimestampLessThanEquals", "<="],
  ["TimestampGreaterThanEquals", ">="], ["TimestampLessThan", "<"], ["TimestampGreaterThan", ">"],
];

export function ruleText(rule) {
  if (rule.Condition !== undefined) return String(rule.Condition); // JSONata
  if (rule.And) return rule.And.map((r) => wrap(ruleText(r), r)).join(" and ");
  if (rule.Or) return rule.Or.map((r) => wrap(ruleText(r), r)).join(" or ");
  if (rule.Not) return `not (${ruleText(rule.Not)})`;
  const variable = rule.Variable || "";
  for (const [op, symbol] of OPS) {
    if (op in rule) return `${variable} ${symbol} ${JSON.stringify(rule[op])}`;
    if (`${op}Path` in rule) return `${variable} ${symbol} ${rule[`${op}Path`]}`;
  }
  for (const [op, text] of [["IsPresent", "is present"], ["IsNull", "is null"], ["IsString", "is a string"],
    ["IsNumeric", "is a number"], ["IsBoolean", "is a boolean"], ["IsTimestamp", "is a timestamp"]]) {
    if (op in rule) return `${variable} ${rule[op] ? text : text.replace("is ", "is not ")}`;
  }
  return variable || "rule";
}

function wrap(text, rule) {
  return rule.And || rule.Or ? `(${text})` : text;
}

const clip = (text, n = MAX_LABEL) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

// -- ASL -> ELK graph -----------------------------------------------------------------------------------------------

function leaf(id, name, subtitle, kind) {
  const width = Math.max(textWidth(name, `600 ${FONT}`), textWidth(subtitle, SMALL)) + 40;
  return { id, width: Math.max(width, 120), height: NODE_H, meta: { name, subtitle, kind } };
}

function edgeLabel(text) {
  const shown = clip(text);
  // the canvas measures with the page's font; the SVG may fall back to a wider one: leave a margin
  return [{ text: shown, width: Math.ceil(textWidth(shown, LABEL_FONT) * 1.08) + 12, height: 16, full: text }];
}

/** The ELK graph of a definition (object), with meta on nodes and edges for drawing. */
export function buildGraph(definition) {
  const ids = new Map(); // state name -> node id
  const states = new Map(); // state name -> state definition
  const edges = [];
  let counter = 0;
  const idFor = (name) => {
    if (!ids.has(name)) ids.set(name, `n${counter++}`);
    return ids.get(name);
  };

  function addStates(container, machine, top) {
    const names = Object.keys(machine.States || {});
    for (const name of names) idFor(name);
    for (const name of names) {
      const state = machine.States[name];
      states.set(name, state);
      const id = idFor(name);
      const subtitle = describeState(state);
      let node;
      if (state.Type === "Parallel") {
        node = { id, meta: { name, subtitle, kind: "Parallel" }, children: [], edges: [],
          layoutOptions: { "elk.padding": "[top=46,left=16,bottom=16,right=16]", "elk.spacing.nodeNode": "24" } };
        (state.Branches || []).forEach((branch, i) => {
          const branchNode = { id: `${id}b${i}`, meta: { name: `Branch ${i + 1}`, kind: "Branch" }, children: [], edges: [],
            layoutOptions: { "elk.padding": "[top=24,left=12,bottom=12,right=12]" } };
          addStates(branchNode, branch, false);
          node.children.push(branchNode);
        });
      } else if (state.Type === "Map") {
        const processor = state.ItemProcessor || state.Iterator || { States: {} };
        node = { id, meta: { name, subtitle, kind: "Map" }, children: [], edges: [],
          layoutOptions: { "elk.padding": "[top=46,left=16,bottom=16,right=16]" } };
        addStates(node, processor, false);
      } else {
        node = leaf(id, name, subtitle, state.Type);
      }
      container.children.push(node);
      addEdges(name, state, top);
    }
    if (top) edges.push(edge(START, idFor(machine.StartAt), "next"));
  }

  function addEdges(name, state, top) {
    const from = idFor(name);
    if (state.Type === "Choice") {
      (state.Choices || []).forEach((rule, i) => {
        if (rule.Next) edges.push(edge(from, idFor(rule.Next), "choice", ruleText(rule), `Rule #${i + 1}: ${ruleText(rule)}`));
      });
      if (state.Default) edges.push(edge(from, idFor(state.Default), "choice", "Default"));
    } else if (state.Next) {
      edges.push(edge(from, idFor(state.Next), "next"));
    }
    (state.Catch || []).forEach((catcher) => {
      // no label in the layout (a States.ALL catch on every task would crowd it): the errors are the edge's tooltip
      if (catcher.Next) edges.push(edge(from, idFor(catcher.Next), "catch", null, `Catch: ${(catcher.ErrorEquals || []).join(", ")}`));
    });
    if (top && (state.End || state.Type === "Succeed" || state.Type === "Fail")) edges.push(edge(from, END, "next"));
  }

  function edge(source, target, kind, label, tooltip) {
    const id = `e${edges.length}`;
    return { id, sources: [source], targets: [target], meta: { kind, source, target, label, tooltip: tooltip || label },
      ...(label ? { labels: edgeLabel(label) } : {}) };
  }

  const root = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "42",
      "elk.layered.spacing.edgeNodeBetweenLayers": "18",
      "elk.spacing.nodeNode": "36",
      "elk.spacing.edgeNode": "16",
      "elk.spacing.edgeEdge": "10",
      "elk.spacing.edgeLabel": "4",
      "elk.edgeLabels.placement": "CENTER",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.layered.crossingMinimization.semiInteractive": "true",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.thoroughness": "3", // 0.7 s instead of 1.4 s for the order workflow, the same layout
      "elk.json.edgeCoords": "ROOT",
      "elk.json.shapeCoords": "ROOT",
      "elk.padding": "[top=16,left=16,bottom=16,right=16]",
    },
    children: [
      { id: START, width: 64, height: 30, meta: { name: "Start", kind: "Start" } },
      { id: END, width: 64, height: 30, meta: { name: "End", kind: "End" } },
    ],
    edges,
  };
  addStates(root, definition, true);
  return { root, ids, states };
}

let elk;

/** Lay out a definition: {root (positioned), ids, states}. */
export async function layout(definition) {
  // eslint-disable-next-line no-undef
  elk ??= new ELK();
  const graph = buildGraph(definition);
  graph.root = await elk.layout(graph.root);
  return graph;
}

// -- drawing --------------------------------------------------------------------------------------------------------

function walk(node, fn, depth = 0) {
  for (const child of node.children || []) {
    fn(child, depth);
    walk(child, fn, depth + 1);
  }
}

function pathOf(section) {
  const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
  // orthogonal polyline with slightly rounded corners
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i];
    const prev = points[i - 1];
    const next = points[i + 1];
    if (!next) {
      d += ` L ${p.x} ${p.y}`;
      continue;
    }
    const r = Math.min(6, Math.hypot(p.x - prev.x, p.y - prev.y) / 2, Math.hypot(next.x - p.x, next.y - p.y) / 2);
    const a = { x: p.x - Math.sign(p.x - prev.x) * r, y: p.y - Math.sign(p.y - prev.y) * r };
    const b = { x: p.x + Math.sign(next.x - p.x) * r, y: p.y + Math.sign(next.y - p.y) * r };
    d += ` L ${a.x} ${a.y} Q ${p.x} ${p.y} ${b.x} ${b.y}`;
  }
  return d;
}

/**
 * Draw a laid-out graph into `host`. Returns a controller:
 *   paint({statuses: Map name->status, counts: Map name->n, transitions: Set "from->to"}) colours it for an
 *   execution; select(name) marks the selected state; zoom(factor|"fit").
 */
export function draw(host, graph, { onSelect } = {}) {
  clear(host);
  const root = graph.root;
  const width = Math.ceil(root.width);
  const height = Math.ceil(root.height);
  const nodeEls = new Map(); // state name -> <g>
  const edgeEls = [];
  const nameOf = new Map([...graph.ids].map(([name, id]) => [id, name]));

  const defs = svg("defs", {},
    ...["plain", "taken", "catch"].map((kind) => svg("marker", { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: "9",
      refY: "5", markerWidth: "9", markerHeight: "9", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: `arrowhead ${kind}` }))));
  const groups = svg("g", { class: "groups" });
  const edgeLayer = svg("g", { class: "edges" });
  const labelLayer = svg("g", { class: "edge-labels" });
  const nodeLayer = svg("g", { class: "nodes" });
  const canvas = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": "state machine graph" }, defs, groups, edgeLayer, labelLayer, nodeLayer);

  walk(root, (node, depth) => {
    const meta = node.meta || {};
    const x = node.x;
    const y = node.y;
    if (meta.kind === "Parallel" || meta.kind === "Map") {
      const g = svg("g", { class: `group state kind-${meta.kind.toLowerCase()} st-none`, "data-state": meta.name,
        on: { click: (e) => { e.stopPropagation(); onSelect?.(meta.name); } } },
      svg("rect", { x, y, width: node.width, height: node.height, rx: 10, class: "group-box" }),
      svg("text", { x: x + 14, y: y + 20, class: "group-title" }, meta.name),
      svg("text", { x: x + 14, y: y + 36, class: "group-sub" },
        meta.kind === "Map" ? `${meta.subtitle} · item processor` : meta.subtitle),
      svg("text", { x: x + node.width - 12, y: y + 20, class: "count", "text-anchor": "end" }, ""));
      groups.append(g);
      nodeEls.set(meta.name, g);
    } else if (meta.kind === "Branch") {
      groups.append(svg("g", { class: "branch" },
        svg("rect", { x, y, width: node.width, height: node.height, rx: 8, class: "branch-box" }),
        svg("text", { x: x + 10, y: y + 16, class: "branch-title" }, meta.name)));
    } else if (meta.kind === "Start" || meta.kind === "End") {
      nodeLayer.append(svg("g", { class: `terminal ${meta.kind.toLowerCase()}`, "data-terminal": meta.kind },
        svg("rect", { x, y, width: node.width, height: node.height, rx: node.height / 2 }),
        svg("text", { x: x + node.width / 2, y: y + node.height / 2 + 4, "text-anchor": "middle" }, meta.name)));
    } else {
      const g = svg("g", { class: `state kind-${(meta.kind || "").toLowerCase()} st-none`, "data-state": meta.name,
        tabindex: "0", on: { click: () => onSelect?.(meta.name), keydown: (e) => { if (e.key === "Enter") onSelect?.(meta.name); } } },
      svg("title", {}, `${meta.name} — ${meta.subtitle}`),
      svg("rect", { x, y, width: node.width, height: node.height, rx: 8, class: "box" }),
      svg("text", { x: x + node.width / 2, y: y + 19, "text-anchor": "middle", class: "name" }, meta.name),
      svg("text", { x: x + node.width / 2, y: y + 35, "text-anchor": "middle", class: "sub" }, meta.subtitle),
      svg("text", { x: x + node.width - 6, y: y - 4, "text-anchor": "end", class: "count" }, ""));
      nodeLayer.append(g);
      nodeEls.set(meta.name, g);
    }
  });

  const allEdges = [];
  const collect = (node) => {
    for (const e of node.edges || []) allEdges.push(e);
    for (const child of node.children || []) collect(child);
  };
  collect(root);
  for (const e of allEdges) {
    const meta = e.meta;
    const from = meta.source === START ? START : nameOf.get(meta.source);
    const to = meta.target === END ? END : nameOf.get(meta.target);
    const key = `${from}->${to}`;
    const g = svg("g", { class: `edge kind-${meta.kind}`, "data-from": from, "data-to": to },
      meta.tooltip ? svg("title", {}, meta.tooltip) : null);
    for (const section of e.sections || []) {
      g.append(svg("path", { d: pathOf(section), class: "line", "marker-end": `url(#arrow-${meta.kind === "catch" ? "catch" : "plain"})` }));
    }
    edgeLayer.append(g);
    let labelEl = null;
    for (const label of e.labels || []) {
      labelEl = svg("g", { class: `edge-label kind-${meta.kind}` },
        svg("title", {}, meta.tooltip || label.full || label.text),
        svg("rect", { x: label.x, y: label.y, width: label.width, height: label.height, rx: 3 }),
        svg("text", { x: label.x + 5, y: label.y + 12 }, label.text));
      labelLayer.append(labelEl);
    }
    edgeEls.push({ key, kind: meta.kind, g, labelEl });
  }

  host.append(canvas);
  let scale = 1;
  // zoom "fit" keeps the graph fitted to the host's width (a window resize, the page's scrollbar coming) until the
  // user zooms or pans; a live update of an execution repaints and never zooms or scrolls
  let fitting = false;
  // a press on the background or a scrollbar (not a click on a state), the wheel, keys that scroll
  host.addEventListener("mousedown", (e) => { if (!e.target.closest(".state")) fitting = false; });
  host.addEventListener("wheel", () => { fitting = false; }, { passive: true });
  host.addEventListener("keydown", (e) => { if (!["Enter", "Tab", "Shift"].includes(e.key)) fitting = false; });
  let fittedTo = 0;
  const resizes = new ResizeObserver(() => {
    if (!host.isConnected) {
      resizes.disconnect();
      return;
    }
    const outer = host.offsetWidth; // 0 while hidden (another tab): keep the scale it had
    if (!outer || outer === fittedTo) return;
    fittedTo = outer;
    if (fitting) controller.zoom("fit");
  });
  resizes.observe(host);
  // drag the background to pan, ctrl + wheel to zoom
  let drag = null;
  canvas.addEventListener("mousedown", (e) => {
    if (e.target.closest(".state")) return;
    drag = { x: e.clientX, y: e.clientY, left: host.scrollLeft, top: host.scrollTop };
    canvas.classList.add("panning");
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    host.scrollLeft = drag.left - (e.clientX - drag.x);
    host.scrollTop = drag.top - (e.clientY - drag.y);
  });
  window.addEventListener("mouseup", () => { drag = null; canvas.classList.remove("panning"); });
  host.addEventListener("wheel", (e) => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    controller.zoom(e.deltaY < 0 ? 1.1 : 1 / 1.1);
  }, { passive: false });
  const controller = {
    element: canvas,
    nodes: nodeEls,
    paint({ statuses, counts, transitions, caughtEdges }) {
      for (const [name, g] of nodeEls) {
        const status = statuses ? statuses.get(name) || "notreached" : "none";
        g.setAttribute("class", g.getAttribute("class").replace(/\bst-[a-z]+/, `st-${status}`));
        g.dataset.status = status;
        const count = counts?.get(name) || 0;
        const countEl = g.querySelector(".count");
        if (countEl) countEl.textContent = count > 1 ? `×${count}` : "";
      }
      for (const { key, kind, g, labelEl } of edgeEls) {
        let taken = transitions ? transitions.has(key) : false;
        // a catch edge is the path taken only when the source state was caught (else its Next edge was)
        if (taken && caughtEdges) taken = caughtEdges.has(key) ? kind === "catch" : kind !== "catch" || !hasSibling(key);
        g.classList.toggle("taken", taken);
        g.classList.toggle("dim", Boolean(transitions) && !taken);
        labelEl?.classList.toggle("taken", taken);
        labelEl?.classList.toggle("dim", Boolean(transitions) && !taken);
        for (const path of g.querySelectorAll("path")) {
          path.setAttribute("marker-end", `url(#arrow-${taken ? "taken" : kind === "catch" ? "catch" : "plain"})`);
        }
      }
    },
    select(name) {
      for (const [n, g] of nodeEls) g.classList.toggle("selected", n === name);
    },
    /**
     * factor: a multiplier, or "fit": the whole width in view (at most 1, not below 0.3), and kept fitted as the host
     * resizes until the user zooms or pans. The views open with "fit".
     */
    zoom(factor) {
      fitting = factor === "fit";
      // clientWidth: inside the borders and the vertical scrollbar, padding (4 + 4) included
      const fit = Math.min(1, (host.clientWidth - 10) / width);
      if (fitting) scale = Math.max(0.3, fit);
      else scale = Math.max(0.3, Math.min(2, scale * factor));
      canvas.setAttribute("width", Math.round(width * scale));
      canvas.setAttribute("height", Math.round(height * scale));
    },
    /** Scroll the host so that the state `name` (or Start) is in view, horizontally centred. */
    reveal(name) {
      const g = name ? nodeEls.get(name) : canvas.querySelector("[data-terminal=Start]");
      if (!g) return;
      const box = g.getBBox();
      host.scrollLeft = Math.max(0, (box.x + box.width / 2) * scale - host.clientWidth / 2);
      host.scrollTop = Math.max(0, box.y * scale - Math.min(160, host.clientHeight / 4));
    },
  };
  const pairCounts = new Map();
  for (const { key } of edgeEls) pairCounts.set(key, (pairCounts.get(key) || 0) + 1);
  const hasSibling = (key) => pairCounts.get(key) > 1;
  return controller;
}

export function legend() {
  const item = (cls, text) => h("span.legend-item", h(`span.swatch.${cls}`), text);
  return h("div.legend", item("st-succeeded", "Succeeded"), item("st-failed", "Failed"),
    item("st-caught", "Caught error"), item("st-running", "In progress"), item("st-cancelled", "Cancelled"),
    item("st-notreached", "Not reached"), h("span.legend-item", h("span.edge-swatch.catch"), "Catch"),
    h("span.legend-item", h("span.edge-swatch.taken"), "Path taken"));
}
