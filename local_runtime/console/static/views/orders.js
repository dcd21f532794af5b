// Orders: the orders table (DynamoDB Scan of OrdersTableName), pending approvals decided through the app's own
// route with the reviewers' key, and one order: its row, why it failed, its failed_orders row, its execution.

import { app, ddb, scanAll, sfn } from "../api.js";
import { h, clear, money, statusBadge, toast, unmarshalItem, debounce, fmtTime, arnName } from "../util.js";

const REVIEWER_KEY = "ReviewerApiKey";
const STATUSES = ["", "RECEIVED", "PROCESSING", "AWAITING_APPROVAL", "FULFILLED", "FAILED"];

function executionArnOf(outputs, orderId) {
  const machine = outputs.OrderStateMachineArn;
  return machine ? `${machine.replace(":stateMachine:", ":execution:")}:${orderId}` : null;
}

export async function ordersView(main, ctx, orderId) {
  const outputs = ctx.config.outputs || {};
  if (!outputs.OrdersTableName) {
    main.append(h("div.panel", h("h1", "Orders"), h("p.muted", "This stack has no OrdersTableName output.")));
    return null;
  }
  const approvals = h("div.panel#approvals");
  const detail = h("div#order-detail");
  const status = h("select#order-status-filter", STATUSES.map((s) => h("option", { value: s }, s ? s.replace("_", " ") : "All statuses")));
  const search = h("input#order-filter", { type: "search", placeholder: "Order or customer id (contains)", size: 30 });
  const info = h("span.muted");
  const tbody = h("tbody");
  main.append(
    h("div.page-head", h("h1", "Orders"), h("div.muted", "Table ", h("code", outputs.OrdersTableName),
      outputs.ApiUrl ? [" · API ", h("code", outputs.ApiUrl)] : null)),
    detail, approvals,
    h("div.panel", h("div.toolbar", status, search, h("span.spacer"), info),
      h("table.grid#orders", h("thead", h("tr", h("th", "Order"), h("th", "Customer"), h("th", "Total"),
        h("th", "Status"), h("th", "Updated"), h("th", "Reason"))), tbody)),
  );
  let orders = [];

  async function load() {
    const { items, truncated } = await scanAll(outputs.OrdersTableName);
    if (!ctx.alive()) return;
    orders = items.map(unmarshalItem).sort((a, b) => String(b.updated_at || b.created_at || "")
      .localeCompare(String(a.updated_at || a.created_at || "")));
    info.textContent = `${orders.length} order${orders.length === 1 ? "" : "s"}${truncated ? " (first 5000)" : ""}`;
    renderTable();
    renderApprovals();
  }

  function renderTable() {
    const filter = search.value.trim().toLowerCase();
    const rows = orders.filter((o) => (!status.value || o.status === status.value) &&
      (!filter || String(o.order_id).toLowerCase().includes(filter) || String(o.customer_id).toLowerCase().includes(filter)));
    clear(tbody);
    for (const o of rows.slice(0, 500)) {
      tbody.append(h("tr", { dataset: { order: o.order_id }, class: o.order_id === orderId ? "selected" : "" },
        h("td", h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}` }, o.order_id)),
        h("td", o.customer_id ?? "-"),
        h("td.num", money(o.total_cents)),
        h("td", statusBadge(o.status || "?")),
        h("td", o.updated_at || o.created_at || "-"),
        h("td.reason", o.reason || "")));
    }
    if (!rows.length) tbody.append(h("tr", h("td.muted", { colSpan: 6 }, "No orders.")));
    if (rows.length > 500) tbody.append(h("tr", h("td.muted", { colSpan: 6 }, `${rows.length - 500} more: filter to narrow down.`)));
  }

  let shownPending = null;
  function renderApprovals() {
    const pending = orders.filter((o) => o.status === "AWAITING_APPROVAL");
    const signature = pending.map((o) => o.order_id).join(",");
    if (signature === shownPending) return; // keep a comment being typed
    shownPending = signature;
    clear(approvals);
    approvals.append(h("h2", `Pending approvals (${pending.length})`));
    const key = (ctx.config.apiKeys || {})[REVIEWER_KEY];
    if (!pending.length) {
      approvals.append(h("p.muted", "No order is waiting for a reviewer."));
      return;
    }
    approvals.append(h("p.hint", "Approve and Reject call ", h("code", "POST {ApiUrl}orders/{orderId}/approval"),
      " with the reviewers' API key (", h("code", REVIEWER_KEY), key ? "" : ": not found in this stack", "), as a reviewer would."));
    approvals.append(h("table.grid#pending", h("thead", h("tr", h("th", "Order"), h("th", "Customer"), h("th", "Total"),
      h("th", "Waiting since"), h("th", "Comment"), h("th", "Decision"))),
    h("tbody", pending.map((o) => approvalRow(o)))));
  }

  function approvalRow(o) {
    const comment = h("input", { type: "text", placeholder: "comment (optional)", size: 24, dataset: { comment: o.order_id } });
    const result = h("span.muted");
    const decide = async (decision, button) => {
      button.disabled = true;
      try {
        const answer = await app("POST", `orders/${encodeURIComponent(o.order_id)}/approval`,
          { decision, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) }, REVIEWER_KEY);
        if (answer.status >= 200 && answer.status < 300) {
          toast(`Order ${o.order_id}: ${decision} sent (HTTP ${answer.status})`, "ok");
          result.textContent = `${decision}d`;
          setTimeout(() => load().catch(() => {}), 300);
        } else {
          toast(`Order ${o.order_id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`, "error");
          button.disabled = false;
        }
      } catch (e) {
        toast(e.message, "error");
        button.disabled = false;
      }
    };
    const approve = h("button.primary.small", { dataset: { approve: o.order_id }, on: { click: () => decide("approve", approve) } }, "Approve");
    const reject = h("button.danger.small", { dataset: { reject: o.order_id }, on: { click: () => decide("reject", reject) } }, "Reject");
    return h("tr", { dataset: { pending: o.order_id } },
      h("td", h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}` }, o.order_id)),
      h("td", o.customer_id ?? "-"), h("td.num", money(o.total_cents)),
      h("td", o.approval_requested_at || "-"), h("td", comment), h("td.decide", approve, " ", reject, " ", result));
  }

  async function renderDetail() {
    clear(detail);
    if (!orderId) return;
    const [order, failed] = await Promise.all([
      ddb("GetItem", { TableName: outputs.OrdersTableName, Key: { order_id: { S: orderId } }, ConsistentRead: true }),
      outputs.FailedOrdersTableName
        ? ddb("GetItem", { TableName: outputs.FailedOrdersTableName, Key: { order_id: { S: orderId } }, ConsistentRead: true })
        : Promise.resolve({}),
    ]);
    if (!ctx.alive()) return;
    const row = order.Item ? unmarshalItem(order.Item) : null;
    const failedRow = failed.Item ? unmarshalItem(failed.Item) : null;
    const executionArn = executionArnOf(outputs, orderId);
    let execution = null;
    if (executionArn) {
      try {
        execution = await sfn("DescribeExecution", { executionArn });
      } catch { /* no execution of that name (an order placed otherwise) */ }
    }
    if (!ctx.alive()) return;
    const panel = h("div.panel.order-detail#order-panel",
      h("div.panel-head", h("h2", "Order ", h("code", orderId), " ", row ? statusBadge(row.status) : statusBadge("NOT FOUND")),
        h("a.small", { href: "#/orders" }, "close ✕")));
    if (row?.reason || failedRow || execution?.error) {
      panel.append(h("div.error-box#order-failure",
        h("div.error-name", "Why it failed"),
        row?.reason ? h("div#order-reason", row.reason) : null,
        execution?.error ? h("div", "Execution error: ", h("strong#execution-error-name", execution.error)) : null,
        execution?.cause ? h("pre.cause", execution.cause) : null));
    }
    panel.append(h("div.order-grid",
      h("div", h("h3", "Order row"), row ? fieldTable(row) : h("p.muted", "No row in the orders table.")),
      h("div", h("h3", "failed_orders row"), failedRow ? fieldTable(failedRow, "failed-row") : h("p.muted", "None: the order is not in ",
        h("code", outputs.FailedOrdersTableName || "failed_orders"), "."),
      h("h3", "Execution"), execution
        ? h("p", h("a#order-execution-link", { href: `#/executions/${encodeURIComponent(executionArn)}` }, arnName(executionArn)), " ",
          statusBadge(execution.status), h("span.muted", ` started ${fmtTime(execution.startDate)}`))
        : h("p.muted", "No execution named after this order."))));
    detail.append(panel);
  }

  status.addEventListener("change", renderTable);
  search.addEventListener("input", debounce(renderTable, 150));
  await Promise.all([load(), renderDetail()]);
  const timer = setInterval(() => {
    load().catch(() => {});
    if (orderId) renderDetail().catch(() => {});
  }, 2000);
  return () => clearInterval(timer);
}

function fieldTable(row, id) {
  return h("table.kv", { id }, h("tbody", Object.keys(row).sort().map((key) => {
    const value = row[key];
    let shown = typeof value === "object" ? JSON.stringify(value) : String(value);
    if (key === "order" && typeof value === "string") shown = value;
    return h("tr", { dataset: { field: key } }, h("th", key), h("td", key === "task_token" ? `${shown.slice(0, 16)}…` : shown));
  })));
}
