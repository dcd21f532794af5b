"""Command line of the local runtime.

``python -m local_runtime serve``            the whole stack in the foreground (``make run``)
``python -m local_runtime invoke FN EVENT``  one function, the Docker-free twin of ``sam local invoke`` (``make invoke``)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.request
from pathlib import Path

from local_runtime.config import Settings
from local_runtime.errors import ServiceError


def _banner(runtime) -> str:
    outputs = runtime.outputs
    width = max((len(key) for key in outputs), default=0)
    lines = [
        "",
        "DOFS local runtime is ready",
        f"  API (API Gateway REST)    {runtime.api_server.url if runtime.api_server else '-'}"
        f"   stage path: /{getattr(runtime, 'api_stage', '')}/",
        f"  AWS endpoint              {runtime.endpoint_url}   (export AWS_ENDPOINT_URL={runtime.endpoint_url})",
        "                            StartSyncExecution from boto3/CLI also needs AWS_DISABLE_HOST_PREFIX_INJECTION=true",
        f"  health / outputs          {runtime.endpoint_url}/_local/health   {runtime.endpoint_url}/_local/outputs",
        f"  parameters                {' '.join(f'{k}={v}' for k, v in runtime.stack.parameters.items())}",
        f"  TIME_SCALE                {runtime.settings.time_scale}",
        "  outputs:",
        *[f"    {key:<{width}}  {value}" for key, value in outputs.items()],
        *([f"  API keys (x-api-key)      {runtime.endpoint_url}/_local/api-keys"]
          + [f"    {k.logical_id:<24}{k.value}{'' if k.usable else '   (not usable: disabled or in no usage plan)'}"
             for k in runtime.api_keys] if runtime.api_keys else []),
        "",
        f"Try: curl -s -XPOST {outputs.get('ApiUrl', '')}orders -H 'content-type: application/json' "
        "-d '{\"customerId\": \"CUST-001\", \"items\": [{\"sku\": \"SKU-001\", \"quantity\": 2}]}'",
        "Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    from local_runtime.runtime import LocalRuntime

    settings = Settings.from_env()
    if args.api_port is not None:
        settings.api_port = args.api_port
    if args.endpoint_port is not None:
        settings.endpoint_port = args.endpoint_port
    runtime = LocalRuntime(settings)
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        runtime.start()
    except (ServiceError, OSError) as exc:
        runtime.stop()
        print(f"local runtime failed to start: {exc}", file=sys.stderr)
        return 2
    if args.ready_file:
        Path(args.ready_file).write_text(json.dumps({
            "endpoint": runtime.endpoint_url,
            "api": runtime.api_server.url if runtime.api_server else None,
            "outputs": runtime.outputs,
            "apiKeys": {k.logical_id: k.value for k in runtime.api_keys},
        }))
    print(_banner(runtime), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping: event sources, API, executions, workers ...", file=sys.stderr, flush=True)
        runtime.stop()
        print("stopped", file=sys.stderr, flush=True)
    return 0


def _running_endpoint(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_local/health", timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def invoke(args: argparse.Namespace) -> int:
    """Invoke one function by logical id (or physical name) with an event file; print the response."""
    event = Path(args.event).read_bytes() if args.event != "-" else sys.stdin.buffer.read()
    settings = Settings.from_env()
    url = f"http://{settings.host}:{settings.endpoint_port}"
    if _running_endpoint(url):
        import boto3

        name = _physical_name(settings, args.function)
        client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        response = client.invoke(FunctionName=name, Payload=event)
        payload, error = response["Payload"].read(), response.get("FunctionError")
        print(f"(invoked through the running local runtime at {url})", file=sys.stderr)
    else:
        from local_runtime.runtime import LocalRuntime

        settings.api_port = 0
        settings.endpoint_port = 0
        runtime = LocalRuntime(settings)
        try:
            runtime.start()
            name = _physical_name(settings, args.function, runtime.stack)
            result = runtime.lambda_service.invoke(name, event)
            payload, error = result.payload, result.function_error
        finally:
            runtime.stop()
    sys.stdout.write(payload.decode() + "\n")
    if error:
        print(f"FunctionError: {error}", file=sys.stderr)
        return 1
    return 0


def _physical_name(settings: Settings, function: str, stack=None) -> str:
    if stack is None:
        from local_runtime.template import load_template

        stack = load_template(settings.template, settings.overrides, stack_name=settings.stack_name,
                              endpoint_url=f"http://{settings.host}:{settings.endpoint_port}")
    resource = stack.resources.get(function)
    if resource is not None and resource.type == "AWS::Lambda::Function":
        return resource.physical_id
    names = [r.physical_id for r in stack.of_type("AWS::Lambda::Function")]
    if function in names:
        return function
    logical = [r.logical_id for r in stack.of_type("AWS::Lambda::Function")]
    raise SystemExit(f"unknown function {function!r}; the template has: {', '.join(logical)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the whole stack in the foreground")
    p_serve.add_argument("--api-port", type=int)
    p_serve.add_argument("--endpoint-port", type=int)
    p_serve.add_argument("--ready-file", help="write the URLs and outputs here once ready (JSON)")
    p_serve.set_defaults(func=serve)
    p_invoke = sub.add_parser("invoke", help="invoke one function with an event file")
    p_invoke.add_argument("function", help="logical id in template.yaml, e.g. ValidateOrderFunction")
    p_invoke.add_argument("event", help="path to an event JSON file, or - for stdin")
    p_invoke.set_defaults(func=invoke)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("moto").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    return args.func(args)


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown: once the runtime has stopped (workers gone, servers closed), freeing
    moto's objects one by one only delays the exit by about a second."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
