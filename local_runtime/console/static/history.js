// GetExecutionHistory events -> what each state did: its runs (one per visit, per Map iteration), each with input,
// effective parameters, output, attempts (time, outcome, error, the wait before a retry) and a status:
// succeeded, failed, caught (failed, then a Catch led on), running, cancelled (the execution stopped while in it).

const COMPOUND_DONE = /^(Parallel|Map)State(Succeeded|Failed|Aborted)$/;
const ATTEMPT_START = new Set(["TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"]);
const ATTEMPT_OK = new Set(["TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"]);
const ATTEMPT_FAIL = new Set(["TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
  "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed", "TaskStartFailed", "TaskSubmitFailed",
  "ActivityFailed", "ActivityTimedOut", "ActivityScheduleFailed"]);

function detailsOf(event) {
  for (const [key, value] of Object.entries(event)) if (key.endsWith("EventDetails")) return value;
  return {};
}

/**
 * interpret(events, definitionStates?) -> {runs, byName, transitions, execution, children}
 *   runs: every state visit in order; byName: name -> [runs]; transitions: Set of "from->to" names (with "__start__"
 *   and "__end__"); children: child executions started by .sync/startExecution tasks ({arn, state, run}).
 */
export function interpret(events) {
  const byId = new Map();
  const runOf = new Map(); // event id -> run
  const runs = [];
  const open = []; // compound runs (Parallel, Map) started and not finished
  const transitions = new Set();
  const children = [];
  const execution = { status: "RUNNING", start: null, stop: null, error: null, cause: null, input: null, output: null };
  let lastRun = null;

  for (const event of events) {
    byId.set(event.id, event);
    const d = detailsOf(event);
    const prev = byId.get(event.previousEventId);
    const type = event.type;

    if (type === "ExecutionStarted") {
      execution.start = event.timestamp;
      execution.input = d.input;
      continue;
    }
    if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(type)) {
      execution.status = { ExecutionSucceeded: "SUCCEEDED", ExecutionFailed: "FAILED", ExecutionAborted: "ABORTED",
        ExecutionTimedOut: "TIMED_OUT" }[type];
      execution.stop = event.timestamp;
      execution.error = d.error ?? null;
      execution.cause = d.cause ?? null;
      execution.output = d.output ?? null;
      execution.lastRun = prev ? runOf.get(prev.id) : lastRun;
      continue;
    }

    if (type.endsWith("StateEntered")) {
      const parentEvent = prev;
      let parent = null;
      let iteration = [];
      let from = "__start__";
      if (parentEvent) {
        const owner = runOf.get(parentEvent.id);
        if (parentEvent.type === "ParallelStateStarted" || parentEvent.type === "MapIterationStarted") {
          parent = owner || null;
          iteration = owner ? [...owner.iteration] : [];
          if (parentEvent.type === "MapIterationStarted") iteration.push(detailsOf(parentEvent).index);
          from = null; // the first state of a branch: no edge drawn into it
        } else if (owner) {
          parent = owner.parent;
          iteration = owner.iteration;
          from = owner.name;
        }
      }
      const run = {
        name: d.name, type: type.replace("StateEntered", ""), entered: event, exited: null, parent, iteration,
        input: d.input, output: null, attempts: [], failure: null, status: "running", events: [event], children: [],
      };
      runs.push(run);
      runOf.set(event.id, run);
      lastRun = run;
      if (from !== null) transitions.add(`${from}->${run.name}`);
      continue;
    }

    // which run does this event belong to?
    let run = prev ? runOf.get(prev.id) : null;
    if (COMPOUND_DONE.test(type)) {
      const kind = type.startsWith("Parallel") ? "Parallel" : "Map";
      run = ownerOfCompletion(open, kind, run) || run;
    } else if (/^MapIteration(Succeeded|Failed|Aborted)$/.test(type)) {
      run = [...open].reverse().find((r) => r.type === "Map" && r.name === d.name) || run;
    } else if (type.endsWith("StateExited") && d.name && run?.name !== d.name) {
      // AWS gives Parallel/MapStateExited the previous event of its *StateSucceeded: the last event of a branch
      run = exitedOwner(runs, run, d.name) || run;
    }
    if (!run) continue;
    runOf.set(event.id, run);
    run.events.push(event);

    if (type === "ParallelStateStarted" || type === "MapStateStarted") {
      open.push(run);
      if (type === "MapStateStarted") run.iterations = d.length;
    } else if (COMPOUND_DONE.test(type)) {
      open.splice(open.indexOf(run), 1);
      if (type.endsWith("Failed")) run.failure = run.failure || { error: null, cause: null, event };
    } else if (ATTEMPT_START.has(type)) {
      run.attempts.push({
        scheduled: event.timestamp, started: null, ended: null, outcome: "running",
        parameters: d.parameters ?? d.input, resource: d.resource, resourceType: d.resourceType,
        timeout: d.timeoutInSeconds, heartbeat: d.heartbeatInSeconds, error: null, cause: null, output: null,
      });
    } else if (type === "TaskStarted" || type === "LambdaFunctionStarted" || type === "ActivityStarted") {
      const attempt = run.attempts.at(-1);
      if (attempt) attempt.started = event.timestamp;
    } else if (type === "TaskSubmitted") {
      const attempt = run.attempts.at(-1);
      if (attempt) attempt.submitted = d.output;
      const child = childArn(d.output);
      if (child) {
        children.push({ arn: child, state: run.name, run });
        run.children.push(child);
      }
    } else if (ATTEMPT_OK.has(type)) {
      const attempt = run.attempts.at(-1);
      if (attempt) Object.assign(attempt, { ended: event.timestamp, outcome: "succeeded", output: d.output });
    } else if (ATTEMPT_FAIL.has(type)) {
      const attempt = run.attempts.at(-1);
      const info = { error: d.error ?? null, cause: d.cause ?? null, event };
      if (attempt) Object.assign(attempt, { ended: event.timestamp, outcome: type.includes("TimedOut") ? "timed out" : "failed",
        error: info.error, cause: info.cause });
      run.failure = info;
    } else if (type.endsWith("StateExited")) {
      run.exited = event;
      run.output = d.output;
      const last = run.attempts.at(-1);
      const failed = run.failure && (!last || last.outcome !== "succeeded" || run.type !== "Task");
      run.status = failed ? "caught" : "succeeded";
    }
  }

  // runs that never exited
  for (const run of runs) {
    if (run.exited) continue;
    if (run.type === "Fail") {
      run.status = "failed";
      const d = detailsOf(run.entered);
      run.failure = { error: execution.error, cause: execution.cause, event: run.entered, input: d.input };
    } else if (execution.status === "RUNNING") run.status = "running"; // a failed attempt may be waiting to retry
    else if (run.failure) run.status = "failed";
    else if (execution.status === "FAILED" && execution.lastRun === run) {
      run.status = "failed";
      run.failure = { error: execution.error, cause: execution.cause };
    } else run.status = "cancelled";
  }
  if (execution.status === "SUCCEEDED" && execution.lastRun) transitions.add(`${execution.lastRun.name}->__end__`);
  if (execution.status === "FAILED" && execution.lastRun && execution.lastRun.type === "Fail") {
    transitions.add(`${execution.lastRun.name}->__end__`);
  }

  const byName = new Map();
  for (const run of runs) {
    if (!byName.has(run.name)) byName.set(run.name, []);
    byName.get(run.name).push(run);
  }
  return { runs, byName, transitions, execution, children };
}

function ownerOfCompletion(open, kind, prevRun) {
  // The compound state this completion belongs to: the open one of that kind that contains the previous event's
  // state (the engine and AWS give a completion the id of the last event recorded, which is inside its branches),
  // else the most recently started open one of that kind.
  for (let run = prevRun; run; run = run.parent) {
    if (run.type === kind && open.includes(run)) return run;
  }
  return [...open].reverse().find((r) => r.type === kind) || null;
}

function exitedOwner(runs, inner, name) {
  // the run named `name` that an exit belongs to: an enclosing one of the previous event's run, else the latest
  // visit of that name still open
  for (let run = inner; run; run = run.parent) if (run.name === name && !run.exited) return run;
  return [...runs].reverse().find((r) => r.name === name && !r.exited) || null;
}

function childArn(output) {
  if (!output) return null;
  try {
    const value = typeof output === "string" ? JSON.parse(output) : output;
    return value && typeof value.ExecutionArn === "string" ? value.ExecutionArn : null;
  } catch {
    return null;
  }
}

const PRIORITY = { running: 5, failed: 4, caught: 3, cancelled: 2, succeeded: 1 };

/** The status a state's node shows: the most telling of its runs. */
export function nodeStatus(runs) {
  let best = null;
  for (const run of runs || []) if (!best || PRIORITY[run.status] > PRIORITY[best]) best = run.status;
  return best || "notreached";
}

// -- Retry: which retrier of the state's Retry list handled a failed attempt, and the wait it asked for ----------

const TASK_FAILED_EXCLUDES = new Set(["States.Timeout", "States.HeartbeatTimeout"]);

function matches(errorEquals, error) {
  return errorEquals.some((name) => name === error || name === "States.ALL" ||
    (name === "States.TaskFailed" && !TASK_FAILED_EXCLUDES.has(error) && !String(error).startsWith("States.Runtime")));
}

/**
 * Annotate the attempts of a Task run with the retrier that handled each failure: {retrier, index, interval}
 * (interval = IntervalSeconds x BackoffRate^(retries of that retrier so far), capped by MaxDelaySeconds), and the
 * measured gap to the next attempt.
 */
export function explainRetries(run, retriers) {
  const counts = new Map();
  run.attempts.forEach((attempt, i) => {
    const next = run.attempts[i + 1];
    delete attempt.retry;
    delete attempt.measuredWait;
    if (!attempt.error) return;
    if (next) attempt.measuredWait = next.scheduled - attempt.ended;
    else if (run.status !== "running") return; // the last attempt of a state that ended: no retry followed
    const index = (retriers || []).findIndex((r) => matches(r.ErrorEquals || [], attempt.error));
    if (index < 0) return;
    const retrier = retriers[index];
    const count = counts.get(index) || 0;
    if (count >= (retrier.MaxAttempts ?? 3)) return; // exhausted: the error goes to Catch
    counts.set(index, count + 1);
    let interval = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, count);
    if (retrier.MaxDelaySeconds !== undefined) interval = Math.min(interval, retrier.MaxDelaySeconds);
    attempt.retry = { index, retrier, number: count + 1, interval, pending: !next };
  });
  return run.attempts;
}
