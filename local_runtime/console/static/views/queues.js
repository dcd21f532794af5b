// Queues: every SQS queue of the endpoint with its depth; dead-letter queues with their sources, a poll of their
// messages and a DLQ redrive (StartMessageMoveTask), as the AWS SQS console offers them.

import { sqs } from "../api.js";
import { h, clear, fmtTime, pretty, toast } from "../util.js";

const ATTRIBUTES = ["QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed", "RedrivePolicy", "VisibilityTimeout", "FifoQueue"];

const nameOf = (arnOrUrl) => String(arnOrUrl || "").split(/[:/]/).pop();

async function loadQueues() {
  const urls = [];
  let token;
  do {
    const page = await sqs("ListQueues", { MaxResults: 1000, ...(token ? { NextToken: token } : {}) });
    urls.push(...(page.QueueUrls || []));
    token = page.NextToken;
  } while (token);
  const queues = await Promise.all(urls.map(async (url) => {
    const { Attributes: a } = await sqs("GetQueueAttributes", { QueueUrl: url, AttributeNames: ATTRIBUTES });
    const redrive = a.RedrivePolicy ? JSON.parse(a.RedrivePolicy) : null;
    return { url, name: nameOf(url), arn: a.QueueArn, visible: Number(a.ApproximateNumberOfMessages),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible), delayed: Number(a.ApproximateNumberOfMessagesDelayed),
      redrive, sources: [] };
  }));
  const byArn = new Map(queues.map((q) => [q.arn, q]));
  for (const q of queues) if (q.redrive) byArn.get(q.redrive.deadLetterTargetArn)?.sources.push(q);
  return queues;
}

export async function queuesView(main, ctx) {
  const outputs = ctx.config.outputs || {};
  const roles = new Map();
  for (const [key, value] of Object.entries(outputs)) if (typeof value === "string" && value.includes("/")) roles.set(value, key);
  const tbody = h("tbody");
  const dlqHost = h("div#dlqs");
  main.append(
    h("div.page-head", h("h1", "Queues")),
    h("div.panel", h("table.grid#queues", h("thead", h("tr", h("th", "Queue"), h("th", "Messages available"),
      h("th", "In flight"), h("th", "Delayed"), h("th", "Dead-letter queue"), h("th", "Stack output"))), tbody)),
    dlqHost,
  );
  const dlqPanels = new Map();

  async function load() {
    const queues = await loadQueues();
    if (!ctx.alive()) return;
    clear(tbody);
    const ordered = [...queues].sort((a, b) => (roles.has(b.url) - roles.has(a.url)) || a.name.localeCompare(b.name));
    for (const q of ordered) {
      tbody.append(h("tr", { dataset: { queue: q.name } },
        h("td", h("strong", q.name), q.sources.length ? h("span.badge.b-dlq", "DLQ") : null),
        h("td.num.depth", String(q.visible)), h("td.num", String(q.inFlight)), h("td.num", String(q.delayed)),
        h("td", q.redrive ? `${nameOf(q.redrive.deadLetterTargetArn)} after ${q.redrive.maxReceiveCount} receives` : "-"),
        h("td.muted", roles.get(q.url) || "")));
    }
    for (const q of ordered.filter((x) => x.sources.length)) {
      if (!dlqPanels.has(q.arn)) {
        const panel = dlqPanel(q, ctx, queues);
        dlqPanels.set(q.arn, panel);
        dlqHost.append(panel.element);
      }
      dlqPanels.get(q.arn).update(q, queues);
    }
  }
  await load();
  const timer = setInterval(() => load().catch(() => {}), 1500);
  return () => clearInterval(timer);
}

function dlqPanel(initial, ctx, initialQueues) {
  let q = initial;
  let queues = initialQueues;
  const depth = h("span.depth");
  const sources = h("span");
  const messagesHost = h("div.messages");
  const taskHost = h("div.task");
  const redriveButton = h("button.primary", { dataset: { redrive: q.name }, on: { click: () => redriveDialog(q, queues, afterStart) } }, "Start DLQ redrive");
  const pollButton = h("button", { dataset: { poll: q.name }, on: { click: pollMessages } }, "Poll for messages");
  const element = h("div.panel.dlq", { dataset: { dlq: q.name } },
    h("div.panel-head", h("h2", "Dead-letter queue ", h("code", q.name)), h("div.actions", pollButton, redriveButton)),
    h("p", depth, " · receives the messages of ", sources, " after their maxReceiveCount"),
    taskHost, messagesHost);
  let watching = false;

  function update(next, all) {
    q = next;
    queues = all;
    depth.textContent = `${q.visible} available, ${q.inFlight} in flight`;
    clear(sources).append(...q.sources.map((s, i) => [i ? ", " : "", h("code", s.name)]).flat());
    if (!watching) refreshTask();
  }

  async function pollMessages() {
    pollButton.disabled = true;
    try {
      // like the AWS console's poll: receive without hiding the messages (visibility timeout 0)
      const seen = new Map();
      for (let i = 0; i < 3 && seen.size < 10; i++) {
        const { Messages = [] } = await sqs("ReceiveMessage", { QueueUrl: q.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0,
          WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"] });
        for (const m of Messages) seen.set(m.MessageId, m);
        if (!Messages.length) break;
      }
      clear(messagesHost);
      messagesHost.append(h("h3", `Messages (${seen.size} shown, received with visibility timeout 0: they stay in the queue)`));
      if (!seen.size) messagesHost.append(h("p.muted", "No message available."));
      for (const m of seen.values()) {
        const a = m.Attributes || {};
        messagesHost.append(h("details.message", { dataset: { message: m.MessageId } },
          h("summary", h("code", m.MessageId), h("span.muted", ` · sent ${a.SentTimestamp ? fmtTime(Number(a.SentTimestamp) / 1000) : "-"}`,
            ` · received ${a.ApproximateReceiveCount ?? "?"} times`)),
          h("pre.json", pretty(m.Body))));
      }
    } catch (e) {
      toast(e.message, "error");
    } finally {
      pollButton.disabled = false;
    }
  }

  async function refreshTask() {
    const { Results = [] } = await sqs("ListMessageMoveTasks", { SourceArn: q.arn, MaxResults: 1 });
    const task = Results[0];
    clear(taskHost);
    if (!task) return null;
    const cancel = task.Status === "RUNNING"
      ? h("button.small.danger", { on: { click: async () => {
        try {
          await sqs("CancelMessageMoveTask", { TaskHandle: task.TaskHandle });
          refreshTask();
        } catch (e) { toast(e.message, "error"); }
      } } }, "Cancel redrive") : null;
    taskHost.append(h("div.task-line", h("strong", "Last redrive: "), h("span", { class: `badge b-${task.Status.toLowerCase()}`, dataset: { status: task.Status } }, task.Status),
      h("span#moved", ` ${task.ApproximateNumberOfMessagesMoved} of ${task.ApproximateNumberOfMessagesToMove ?? "?"} moved`),
      h("span.muted", ` to ${task.DestinationArn ? nameOf(task.DestinationArn) : "their source queues"}`,
        task.MaxNumberOfMessagesPerSecond ? ` at ${task.MaxNumberOfMessagesPerSecond}/s` : " at the fastest rate",
        ` · started ${fmtTime(task.StartedTimestamp / 1000)}`),
      task.FailureReason ? h("span.bad", ` · ${task.FailureReason}`) : null, " ", cancel));
    return task;
  }

  async function afterStart() {
    watching = true;
    try {
      for (let i = 0; i < 600; i++) {
        const task = await refreshTask();
        if (!task || task.Status !== "RUNNING") break;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      watching = false;
    }
  }

  return { element, update };
}

function redriveDialog(dlq, queues, afterStart) {
  const toSource = h("input", { type: "radio", name: "dest", value: "source", checked: true, id: "dest-source" });
  const toCustom = h("input", { type: "radio", name: "dest", value: "custom", id: "dest-custom" });
  const destination = h("select#dest-queue", queues.filter((q) => q.arn !== dlq.arn).map((q) => h("option", { value: q.arn }, q.name)));
  const optimized = h("input", { type: "radio", name: "rate", value: "auto", checked: true, id: "rate-auto" });
  const custom = h("input", { type: "radio", name: "rate", value: "custom", id: "rate-custom" });
  const rate = h("input#rate-value", { type: "number", min: 1, max: 500, value: 10 });
  const error = h("div.error-text");
  const dialog = h("dialog.modal",
    h("h2", "Start DLQ redrive: ", h("code", dlq.name)),
    h("p.muted", `${dlq.visible} message${dlq.visible === 1 ? "" : "s"} available. StartMessageMoveTask moves them and deletes them from the DLQ.`),
    h("fieldset", h("legend", "Destination"),
      h("label", toSource, ` Redrive to source queue(s): ${dlq.sources.map((s) => s.name).join(", ")}`),
      h("label", toCustom, " Redrive to a custom destination ", destination)),
    h("fieldset", h("legend", "Velocity"),
      h("label", optimized, " System optimized"),
      h("label", custom, " Custom maximum rate (messages per second) ", rate)),
    error,
    h("div.actions", h("button", { on: { click: () => dialog.close() } }, "Cancel"),
      h("button.primary#confirm-redrive", { on: { click: start } }, "DLQ redrive")));

  async function start() {
    const params = { SourceArn: dlq.arn };
    if (toCustom.checked) params.DestinationArn = destination.value;
    if (custom.checked) params.MaxNumberOfMessagesPerSecond = Number(rate.value);
    try {
      await sqs("StartMessageMoveTask", params);
      dialog.close();
      toast(`Redrive of ${dlq.name} started`, "ok");
      afterStart();
    } catch (e) {
      error.textContent = e.message;
    }
  }
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
