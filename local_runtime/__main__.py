"""Command line of the local runtime.

``python -m local_runtime serve``            the whole stack in the foreground (``make run``)
``python -m local_runtime invoke FN EVENT``  one function (or state machine), the Docker-free twin of
                                             ``sam local invoke`` (``make invoke``)
``python -m local_runtime env-json``         env.json for ``sam local invoke --env-vars`` (Docker users)
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
        f"  console                   {runtime.endpoint_url}/_local/console/   (workflows, executions, orders, queues)",
        f"  health / outputs          {runtime.endpoint_url}/_local/health   {runtime.endpoint_url}/_local/outputs",
        f"  parameters                {' '.join(f'{k}={v}' for k, v in runtime.stack.parameters.items())}",
        f"  TIME_SCALE                {runtime.settings.time_scale}",
        *([f"  FAULTS (injected)         {runtime.faults.describe()}"] if runtime.faults is not None else []),
        "  hot reload                " + ("on: saved functions, layers, state machine definitions, template.yaml "
                                         "(WATCH=0 turns it off)" if runtime.reloader is not None else "off (WATCH=0)"),
        "  function logs             aws logs filter-log-events --log-group-name /aws/lambda/<function name> "
        f"(LOG_FORMAT={runtime.settings.log_format})",
        "  outputs:",
        *[f"    {key:<{width}}  {value}" for key, value in outputs.items()],
        *([f"  API keys (x-api-key)      {runtime.endpoint_url}/_local/api-keys"]
          + [f"    {k.logical_id:<24}{k.value}"
             f"{'   ' + k.description if k.usable else '   (not usable: disabled or in no usage plan)'}"
             for k in runtime.api_keys] if runtime.api_keys else []),
        "",
        f"Try: curl -s -XPOST {outputs.get('ApiUrl', '')}orders -H 'content-type: application/json' "
        + "".join(f"-H 'x-api-key: {k.value}' " for k in runtime.api_keys[:1] if k.usable)
        + "-d '{\"customerId\": \"CUST-001\", \"items\": [{\"sku\": \"SKU-001\", \"quantity\": 2}]}'",
        "In-memory state: every order, table row, queue message and execution is lost when the runtime stops.",
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
    _say(_banner(runtime), sys.stdout)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _say("stopping: event sources, API, executions, workers ...")
        runtime.stop()
        _say("stopped")
    return 0


def _say(text: str, stream=None) -> None:
    """Print, unless the output is gone (``make run | tee`` whose tee died with the same Ctrl-C, ``| head``): a
    BrokenPipeError here skipped runtime.stop() and left the runtime serving after Ctrl-C."""
    try:
        print(text, file=stream or sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _running_endpoint(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_local/health", timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def invoke(args: argparse.Namespace) -> int:
    """Invoke one function (or start one state machine) by logical id with an event file; print the result."""
    from local_runtime.invoke import UnknownTarget, call, check_target

    settings = Settings.from_env()
    try:
        check_target(settings.template, args.function)
    except UnknownTarget as exc:
        print(exc, file=sys.stderr)
        return 2
    event = Path(args.event).read_bytes() if args.event != "-" else sys.stdin.buffer.read()
    url = f"http://{settings.host}:{settings.endpoint_port}"
    try:
        if _running_endpoint(url):
            from local_runtime.template import load_template

            stack = load_template(settings.template, settings.overrides, stack_name=settings.stack_name,
                                  endpoint_url=url)
            outcome = call(url, stack, args.function, event, wait=args.wait)
            print(f"(invoked through the running local runtime at {url})", file=sys.stderr)
        else:
            from local_runtime.runtime import LocalRuntime

            settings.api_port = 0
            settings.endpoint_port = 0
            settings.watch = False
            runtime = LocalRuntime(settings)
            try:
                runtime.start()
                outcome = call(runtime.endpoint_url, runtime.stack, args.function, event, wait=args.wait)
            finally:
                runtime.stop()
    except UnknownTarget as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.write(outcome.text + "\n")
    if outcome.failed:
        print(f"FunctionError: {outcome.detail}" if outcome.detail in ("Handled", "Unhandled")
              else f"execution {outcome.detail}", file=sys.stderr)
        return 1
    return 0


def env_json(args: argparse.Namespace) -> int:
    """Print env.json for ``sam local invoke --env-vars``: every function's variables as this runtime resolves
    them, the endpoint reached from a container."""
    from local_runtime.samlocal import env_vars

    settings = Settings.from_env()
    print(json.dumps(env_vars(settings, args.endpoint), indent=2))
    return 0


def _settings_help() -> str:
    from local_runtime.config import SETTINGS

    width = max(len(name) for name, _, _ in SETTINGS)
    lines = ["environment settings (make run passes them through):"]
    for name, default, meaning in SETTINGS:
        lines.append(f"  {name:<{width}}  {meaning}" + (f" [default: {default}]" if default else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__, epilog=_settings_help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the whole stack in the foreground", epilog=_settings_help(),
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    p_serve.add_argument("--api-port", type=int)
    p_serve.add_argument("--endpoint-port", type=int)
    p_serve.add_argument("--ready-file", help="write the URLs and outputs here once ready (JSON)")
    p_serve.set_defaults(func=serve)
    p_invoke = sub.add_parser("invoke", help="invoke one function (or start one state machine) with an event file")
    p_invoke.add_argument("function", help="logical id in template.yaml, e.g. ValidateOrderFunction or "
                                           "OrderStateMachine")
    p_invoke.add_argument("event", help="path to an event JSON file, or - for stdin")
    p_invoke.add_argument("--wait", type=float, default=10.0,
                          help="seconds to follow a Standard execution before printing it as RUNNING (default 10)")
    p_invoke.set_defaults(func=invoke)
    p_env = sub.add_parser("env-json", help="print env.json for sam local invoke --env-vars")
    p_env.add_argument("--endpoint", default="http://host.docker.internal:4566",
                       help="the endpoint as a Lambda container reaches it (default %(default)s)")
    p_env.set_defaults(func=env_json)
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
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    exit_code = 1
    try:
        exit_code = main()
    except SystemExit as exc:  # argparse: --help, a usage error
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException:  # noqa: BLE001 - reported, then the same hard exit: no thread may keep the process up
        import traceback

        traceback.print_exc()
    finally:
        _exit(exit_code)
