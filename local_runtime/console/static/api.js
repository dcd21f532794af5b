// The console's calls: AWS operations and the stack's own API, through the same-origin routes of the runtime
// (local_runtime/console/__init__.py). Nothing here leaves 127.0.0.1.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "X-DOFS-Console": "1" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(error.Code || response.status, error.Message || response.statusText, response.status);
  }
  return data;
}

async function get(path) {
  const response = await fetch(path);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(error.Code || response.status, error.Message || response.statusText, response.status);
  }
  return data;
}

/** One AWS operation, e.g. aws("stepfunctions", "ListExecutions", {stateMachineArn}). */
export function aws(service, operation, params = {}) {
  return post("api/aws", { service, operation, params });
}

export const sfn = (operation, params) => aws("stepfunctions", operation, params);
export const ddb = (operation, params) => aws("dynamodb", operation, params);
export const sqs = (operation, params) => aws("sqs", operation, params);

/** A request to the stack's API (ApiUrl + path) with the API key of logical id `key`: {status, body}. */
export function app(method, path, body, key) {
  return post("api/app", { method, path, body, key });
}

let configPromise;
export function config() {
  configPromise ??= get("api/config");
  return configPromise;
}

export function expressExecutions(stateMachineArn) {
  return get(`api/express?stateMachineArn=${encodeURIComponent(stateMachineArn)}`);
}

export function expressExecution(executionArn) {
  return get(`api/express/execution?executionArn=${encodeURIComponent(executionArn)}`);
}

/** Every event of an execution's history (GetExecutionHistory pages of 1000). */
export async function history(executionArn) {
  const events = [];
  let nextToken;
  do {
    const page = await sfn("GetExecutionHistory", { executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Every item of a table (Scan pages), at most `limit`. */
export async function scanAll(tableName, limit = 5000) {
  const items = [];
  let start;
  do {
    const page = await ddb("Scan", { TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) });
    items.push(...page.Items);
    start = page.LastEvaluatedKey;
  } while (start && items.length < limit);
  return { items, truncated: Boolean(start) };
}
