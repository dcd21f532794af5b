"""Handlers for the Lambda runtime tests: one behaviour each."""
import os
import time

INVOCATIONS = 0


class OrderRejectedError(Exception):
    """A leaf error the workflow would name in ErrorEquals."""


def echo(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    return {
        "event": event,
        "function_name": context.function_name,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "greeting": os.environ["GREETING"],
        "invocations": INVOCATIONS,
        "pid": os.getpid(),
    }


def reject(event, context):
    raise OrderRejectedError(f"order {event['order_id']} rejected")


def sleep(event, context):
    time.sleep(event["seconds"])
    return {"slept": event["seconds"], "pid": os.getpid()}


def exit_now(event, context):
    os._exit(1)


def big_response(event, context):
    return "A" * event["size"]


def environment(event, context):
    return {name: os.environ.get(name) for name in event["names"]}


def touch(event, context):
    time.sleep(event.get("seconds", 0))
    with open(event["path"] + ".tmp", "w") as marker:
        marker.write(context.aws_request_id)
    os.replace(event["path"] + ".tmp", event["path"])
    return {}


def say(event, context):
    print(event["line"])
    return {}


def introspect(event, context):
    """What a forked worker must not share with its siblings or inherit from the runtime."""
    import random
    import sys

    time.sleep(event.get("seconds", 0))
    return {"pid": os.getpid(), "random": random.random(), "cwd": os.getcwd(), "path": sys.path,
            "runtime_importable": any(m == "local_runtime" or m.startswith("local_runtime.") for m in sys.modules),
            "session_leader": os.getsid(0) == os.getpid()}


def mark_then_sleep(event, context):
    """Writes its pid to event["path"] once running, then sleeps (a test can act while the invocation runs)."""
    with open(event["path"] + ".tmp", "w") as marker:
        marker.write(str(os.getpid()))
    os.replace(event["path"] + ".tmp", event["path"])
    time.sleep(event["seconds"])
    return {"pid": os.getpid()}
