"""Handlers for the runtime integration tests: each writes the event it got to RECORD_DIR/<function name>/."""
import json
import os
import uuid


def record(event, context):
    folder = os.path.join(os.environ["RECORD_DIR"], context.function_name)
    os.makedirs(folder, exist_ok=True)
    name = uuid.uuid4().hex
    with open(os.path.join(folder, f".{name}.tmp"), "w") as handle:
        json.dump(event, handle)
    os.replace(os.path.join(folder, f".{name}.tmp"), os.path.join(folder, f"{name}.json"))
    return {"recorded": name}


def stream(event, context):
    """DynamoDB stream consumer: reports the records whose new image has fail=true as batch item failures."""
    record(event, context)
    failures = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]
                if r["dynamodb"].get("NewImage", {}).get("fail", {}).get("BOOL")]
    return {"batchItemFailures": failures}


def api(event, context):
    return {"statusCode": 200, "body": json.dumps({"apiKeyId": event["requestContext"]["identity"].get("apiKeyId")})}
