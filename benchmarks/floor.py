"""The least CPU an order can cost on this architecture, measured on this machine, and so the most orders/s it allows.

On the local stack each Lambda task is a real awslambdaric invocation in a worker process, and each AWS call a
handler makes is a real boto3 request over loopback HTTP to moto behind the endpoint. Measured here, alone:

* request: a boto3 ``Table.get_item`` of one small item (the app's most frequent call, made as its shared layer makes
  it) from a separate process to an endpoint served by this one: CPU of the calling process and of this one, per
  request;
* invocation: a handler that returns a constant, invoked through ``LambdaService``: CPU of this process and of the
  worker, per invocation.

``floor per order = Lambda requests per order x (client + server) + invocations per order x (runtime + worker)``, with
the per-order counts read from the stack's ``/_local/stats`` during the bench's burst. Everything else an order needs
(the engine, the API emulation, the runtime's own SQS/SNS/EventBridge calls, the pollers, the handlers' own Python,
Powertools) counts as free, so ``CPUs / floor`` is an upper bound of the orders/s this app can reach here.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CLIENT = r"""
import sys, time, boto3
url, count = sys.argv[1], int(sys.argv[2])
table = boto3.resource("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing").Table("floor")
for _ in range(30):
    table.get_item(Key={"k": "5"})
print("ready", flush=True)
sys.stdin.readline()
started = time.process_time()
for _ in range(count):
    table.get_item(Key={"k": "5"})
print(time.process_time() - started, flush=True)
"""


@dataclass
class UnitCosts:
    request_client_ms: float  # CPU of the calling process per boto3 request
    request_server_ms: float  # CPU of the endpoint's process per request
    invoke_runtime_ms: float  # CPU of the runtime process per invocation of an empty handler
    invoke_worker_ms: float  # CPU of the worker process per invocation of an empty handler
    # CPU of the serving thread alone per request (gateway/stats.py CpuMeter: parsing, answer, write; not the
    # server's connection hand-offs), comparable with the stack's /_local/stats cpuMs per request
    request_served_ms: float = float("nan")

    def floor_ms(self, lambda_requests: float, invocations: float) -> float:
        return (lambda_requests * (self.request_client_ms + self.request_server_ms)
                + invocations * (self.invoke_runtime_ms + self.invoke_worker_ms))

    def as_dict(self) -> dict:
        return asdict(self)


def _served_ms(gateway, operation: str = "DynamoDB_20120810.GetItem") -> tuple[float, int]:
    return (gateway.requests.cpu.snapshot_ms().get("other", {}).get(operation, 0.0),
            gateway.requests.snapshot().get("other", {}).get(operation, 0))


def _request_costs(count: int) -> tuple[float, float, float]:
    from local_runtime.gateway import Gateway, Server
    from local_runtime.runtime import _client

    gateway = Gateway()
    server = Server(gateway, "127.0.0.1", 0, "bench-floor").start()
    try:
        ddb = _client("dynamodb", server.url)
        ddb.create_table(TableName="floor", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="floor", Item={"k": {"S": "5"}, "name": {"S": "customer 5"}, "tier": {"S": "gold"}})
        client = subprocess.Popen([sys.executable, "-c", CLIENT, server.url, str(count)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            if client.stdout.readline().strip() != "ready":
                raise RuntimeError("the floor's client process did not start")
            served_before = _served_ms(gateway)
            started = time.process_time()
            client.stdin.write("\n")
            client.stdin.flush()
            client_cpu = float(client.stdout.readline())
            server_cpu = time.process_time() - started
            served_after = _served_ms(gateway)
        finally:
            client.stdin.close()
            client.wait(timeout=30)
    finally:
        server.stop()
    served = (served_after[0] - served_before[0]) / max(1, served_after[1] - served_before[1])
    return 1000 * client_cpu / count, 1000 * server_cpu / count, served


def _invoke_costs(count: int) -> tuple[float, float]:
    from local_runtime.awslambda import FunctionSpec, LambdaService
    from local_runtime.logs import Console, LogRouter

    from .stack_bench import cpu_snapshot

    with tempfile.TemporaryDirectory(prefix="dofs-floor-") as code:
        Path(code, "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
        spec = FunctionSpec(name="floor", arn="arn:aws:lambda:us-east-1:123456789012:function:floor",
                            handler="app.handler", code_dir=code, layer_dirs=[], timeout=30)
        # the invocations' START/END/REPORT lines are formatted as on the stack's terminal, then dropped (the
        # stack bench's runtime writes them to a file): same work, no 600 lines in the bench's output
        discard = open(os.devnull, "w")
        service = LambdaService([spec], {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
                                log_sink=LogRouter(Console(stream=discard)))
        service.start()
        try:
            payload = b'{"orderId": "FLOOR-1"}'
            for _ in range(30):
                service.invoke("floor", payload)
            before = cpu_snapshot(os.getpid())
            started = time.process_time()
            for _ in range(count):
                result = service.invoke("floor", payload)
            runtime_cpu = time.process_time() - started
            after = cpu_snapshot(os.getpid())
            if result.function_error:
                raise RuntimeError(f"the floor's empty handler failed: {result.payload[:200]!r}")
        finally:
            service.stop()
            discard.close()
    worker_cpu = sum(v - before[1][k] for k, v in after[1].items() if k in before[1])
    return 1000 * runtime_cpu / count, 1000 * worker_cpu / count


def measure_unit_costs(requests: int = 600, invocations: int = 600) -> UnitCosts:
    client, server, served = _request_costs(requests)
    runtime, worker = _invoke_costs(invocations)
    return UnitCosts(request_client_ms=client, request_server_ms=server, invoke_runtime_ms=runtime,
                     invoke_worker_ms=worker, request_served_ms=served)
