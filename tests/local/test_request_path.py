"""The runtime process's request path: keep-alive endpoint server (cheroot), in-process clients (gateway/inprocess.py)
and our fixes to moto (gateway/moto_app.py, dynamodb/ and sqs/moto_patches.py) answer as before, over HTTP and
in-process alike."""
from __future__ import annotations

import http.client
import socket

import boto3
import pytest

from local_runtime.config import FAKE_CREDENTIALS
from local_runtime.gateway import Gateway, Server
from local_runtime.runtime import _client


@pytest.fixture(scope="module")
def endpoint():
    gateway = Gateway()
    server = Server(gateway, "127.0.0.1", 0, "test-request-path").start()
    yield gateway, server
    server.stop()


def _http_client(server: Server, service: str):
    return boto3.session.Session().client(
        service, endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(scope="module", params=["http", "in-process"])
def clients(request, endpoint):
    gateway, server = endpoint
    if request.param == "http":
        return lambda service: _http_client(server, service)
    return lambda service: _client(service, server.url, gateway)


def _table(ddb, name: str, range_key: bool = False, stream: bool = False) -> None:
    schema = [{"AttributeName": "k", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "k", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "r", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "r", "AttributeType": "S"})
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    ddb.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST",
                     **extra)


def test_cancelled_transaction_leaves_items_and_stream_as_they_were(clients, request):
    ddb = clients("dynamodb")
    name = f"tx-{request.node.callspec.id}"
    _table(ddb, name, stream=True)
    _table(ddb, name + "-r", range_key=True)
    ddb.put_item(TableName=name, Item={"k": {"S": "a"}, "n": {"N": "5"}})
    ddb.put_item(TableName=name + "-r", Item={"k": {"S": "a"}, "r": {"S": "1"}, "n": {"N": "5"}})
    streams = clients("dynamodbstreams")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def stream_records() -> int:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])

    before = stream_records()
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": name, "Key": {"k": {"S": "a"}}, "UpdateExpression": "SET n = n + :d",
                        "ExpressionAttributeValues": {":d": {"N": "1"}}}},
            {"Put": {"TableName": name, "Item": {"k": {"S": "new"}}}},
            {"Put": {"TableName": name + "-r", "Item": {"k": {"S": "b"}, "r": {"S": "2"}}}},
            {"Update": {"TableName": name + "-r", "Key": {"k": {"S": "a"}, "r": {"S": "1"}},
                        "UpdateExpression": "SET n = n + :d", "ConditionExpression": "n > :big",
                        "ExpressionAttributeValues": {":d": {"N": "1"}, ":big": {"N": "100"}}}},
        ])
    reasons = [r["Code"] for r in info.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert ddb.scan(TableName=name)["Items"] == [{"k": {"S": "a"}, "n": {"N": "5"}}]
    assert ddb.scan(TableName=name + "-r")["Items"] == [{"k": {"S": "a"}, "r": {"S": "1"}, "n": {"N": "5"}}]
    assert stream_records() == before

    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": name, "Key": {"k": {"S": "a"}}, "UpdateExpression": "SET n = n + :d",
                    "ExpressionAttributeValues": {":d": {"N": "1"}}}},
        {"Put": {"TableName": name + "-r", "Item": {"k": {"S": "b"}, "r": {"S": "2"}}}},
    ])
    assert ddb.get_item(TableName=name, Key={"k": {"S": "a"}})["Item"]["n"] == {"N": "6"}
    assert ddb.scan(TableName=name + "-r")["Count"] == 2
    assert stream_records() == before + 1


def test_update_expressions_projections_and_attribute_values(clients, request):
    ddb = clients("dynamodb")
    name = f"upd-{request.node.callspec.id}"
    _table(ddb, name)
    item = {"k": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01"}, "nul": {"NULL": True},
            "ok": {"BOOL": False}, "ss": {"SS": ["x"]}, "m": {"M": {"l": {"L": [{"S": "q"}, {"N": "2"}]}}}}
    ddb.put_item(TableName=name, Item=item)
    assert ddb.get_item(TableName=name, Key={"k": {"S": "a"}})["Item"] == item
    for value in ("X", "Y"):  # the same expression text twice (memoised parse), different values
        attrs = ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, ReturnValues="ALL_NEW",
                                UpdateExpression="SET #s = :v, l2 = list_append(if_not_exists(l2, :e), :i)",
                                ExpressionAttributeNames={"#s": "status"},
                                ExpressionAttributeValues={":v": {"S": value}, ":e": {"L": []},
                                                           ":i": {"L": [{"S": value}]}})["Attributes"]
        assert attrs["status"] == {"S": value}
    assert attrs["l2"] == {"L": [{"S": "X"}, {"S": "Y"}]}
    got = ddb.get_item(TableName=name, Key={"k": {"S": "a"}}, ProjectionExpression="k, #s, absent, b",
                       ExpressionAttributeNames={"#s": "status"})["Item"]
    assert got == {"k": {"S": "a"}, "status": {"S": "Y"}, "b": {"B": b"\x00\x01"}}
    nested = ddb.get_item(TableName=name, Key={"k": {"S": "a"}}, ProjectionExpression="m.l[1]")["Item"]
    assert nested == {"m": {"M": {"l": {"L": [{"N": "2"}]}}}}
    batch = ddb.batch_get_item(RequestItems={name: {"Keys": [{"k": {"S": "a"}}], "ProjectionExpression": "n"}})
    assert batch["Responses"][name] == [{"n": {"N": "1.50"}}]


def test_remembered_update_checks_and_condition_tokens_still_judge_each_request(clients, request):
    """An UpdateExpression's names-only checks are skipped only for the (expression, names, key attributes) that passed
    them; a condition's tokens are reused, never its names or values."""
    ddb = clients("dynamodb")
    name = f"chk-{request.node.callspec.id}"
    _table(ddb, name)
    ddb.put_item(TableName=name, Item={"k": {"S": "a"}, "status": {"S": "NEW"}})

    def update(names: dict, expected: str, to: str) -> None:
        ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, UpdateExpression="SET #f = :to, #g = :to",
                        ConditionExpression="#f = :from", ExpressionAttributeNames=names,
                        ExpressionAttributeValues={":to": {"S": to}, ":from": {"S": expected}})

    for _ in range(2):  # the same names twice: passed, then remembered
        update({"#f": "status", "#g": "other"}, "NEW", "NEW")
    with pytest.raises(ddb.exceptions.ClientError) as key_update:  # same text, a name now pointing at the key
        update({"#f": "status", "#g": "k"}, "NEW", "X")
    assert "Cannot update attribute k. This attribute is part of the key" in str(key_update.value)
    for _ in range(2):  # a failed check is not remembered: it fails every time
        with pytest.raises(ddb.exceptions.ClientError) as overlap:
            update({"#f": "status", "#g": "status"}, "NEW", "X")
        assert "Two document paths overlap with each other" in str(overlap.value)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):  # same condition text, another value
        update({"#f": "status", "#g": "other"}, "DONE", "X")
    update({"#f": "status", "#g": "other"}, "NEW", "DONE")
    assert ddb.get_item(TableName=name, Key={"k": {"S": "a"}})["Item"] == {
        "k": {"S": "a"}, "status": {"S": "DONE"}, "other": {"S": "DONE"}}


def test_each_copy_of_a_remembered_update_expression_is_a_tree_of_its_own():
    """The validator's copies of a memoised UpdateExpression AST (the first walked, the later ones unpickled) are
    new nodes with the same content, each parent link inside its own copy: changing one changes no other."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    from local_runtime.gateway.moto_app import apply_patches

    apply_patches()
    tree = UpdateExpressionParser.make("SET #a = :a, b = if_not_exists(b, :zero) + :one REMOVE c")

    def nodes(root):
        found, stack = [], [root]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(child for child in node.children or [] if isinstance(child, Node))
        return found

    def shape(root):
        return [(type(n).__name__, [c if not isinstance(c, Node) else type(c).__name__ for c in n.children or []])
                for n in nodes(root)]

    copies = [validators.deepcopy(tree) for _ in range(3)]
    originals = {id(n) for n in nodes(tree)}
    for copy in copies:
        assert shape(copy) == shape(tree)
        inside = nodes(copy)
        assert not originals & {id(n) for n in inside}
        assert all(child.parent is node for node in inside for child in node.children or [] if isinstance(child, Node)
                   and child.parent is not None)
    nodes(copies[1])[-1].children = None  # a change to one copy
    assert shape(copies[2]) == shape(tree) and shape(validators.deepcopy(tree)) == shape(tree)


def test_sqs_through_the_endpoint(clients, request, endpoint):
    sqs = clients("sqs")
    url = sqs.create_queue(QueueName=f"q-{request.node.callspec.id}",
                           Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    assert f":{endpoint[1].port}/" in url  # queue URLs carry the endpoint's host and port, as over HTTP
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={
        "a": {"DataType": "String", "StringValue": "v"}})
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in messages] == ["hello"]
    assert messages[0]["MessageAttributes"]["a"]["StringValue"] == "v"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def _raw(server: Server, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_keep_alive_and_framing(endpoint):
    _, server = endpoint
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(3):  # one connection, several requests
        connection.request("GET", "/_local/health")
        response = connection.getresponse()
        assert response.status in (200, 503)
        assert response.getheader("Connection") is None
        assert response.getheader("Date")
        response.read()
    first_socket = connection.sock
    connection.request("GET", "/_local/outputs")
    connection.getresponse().read()
    assert connection.sock is first_socket
    connection.close()

    chunked = (b"POST /_local/outputs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               b"2\r\n{}\r\n0\r\n\r\n")
    assert _raw(server, chunked).startswith(b"HTTP/1.1 200 ")
    old = _raw(server, b"GET /_local/outputs HTTP/1.0\r\n\r\n")
    assert old.startswith(b"HTTP/1.1 200 ") and old.endswith(b"\r\n\r\n{}")   # and the server closed it (read to EOF)
    head = _raw(server, b"HEAD /_local/outputs HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert head.endswith(b"\r\n\r\n") and b"Content-Length: " in head
    assert _raw(server, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    expect = _raw(server, b"POST /_local/outputs HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
                          b"Connection: close\r\n\r\n{}")
    assert expect.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ")


def test_a_response_leaves_in_one_write_and_a_streamed_body_chunk_by_chunk(monkeypatch):
    from cheroot import makefile

    writes: list[bytes] = []
    write = makefile.StreamWriter.write
    monkeypatch.setattr(makefile.StreamWriter, "write", lambda self, data: (writes.append(bytes(data)),
                                                                             write(self, data))[1])

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/stream":  # no Content-Length: chunked, each chunk as it comes
            start_response("200 OK", [("Content-Type", "text/plain")])
            return iter([b"one", b"two", b"three"])
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    server = Server(app, "127.0.0.1", 0, "test-one-write").start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/one")
        assert connection.getresponse().read() == b"{}"
        assert len(writes) == 1
        assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n{}")
        writes.clear()
        connection.request("GET", "/stream")
        assert connection.getresponse().read() == b"onetwothree"
        assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n3\r\none\r\n")
        assert writes[1:] == [b"3\r\ntwo\r\n", b"5\r\nthree\r\n", b"0\r\n\r\n"]
        connection.close()
    finally:
        server.stop()


def test_the_endpoint_reader_cuts_the_same_lines_as_cheroots():
    """The endpoint's line reader (gateway/server.py) returns what cheroot's reader returns, for every line size
    limit, whether the line is whole in the buffer or not, and counts the same bytes read."""
    from cheroot import makefile

    from local_runtime.gateway import server as endpoint_server

    data = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"
            b"Content-Length: 5\r\n\r\nhello" + b"x" * 300 + b"\nno newline at the end")
    for size in (None, -1, 0, 1, 5, 17, 256):
        for buffer_size in (8, 64, 8192):
            results = []
            for make in (makefile.MakeFile, None):
                left, right = socket.socketpair()
                try:
                    right.sendall(data)
                    right.close()
                    if make is None:
                        stream = endpoint_server._connection_class().make_file(left, "rb", buffer_size)  # noqa: SLF001
                        assert type(stream).__name__ == "_LineReader"
                    else:
                        stream = make(left, "rb", buffer_size)
                    lines = []
                    for _ in range(400):
                        line = stream.readline(size)
                        lines.append(line)
                        if not line and size != 0:
                            break
                    results.append((lines, stream.bytes_read))
                finally:
                    left.close()
            assert results[0] == results[1], (size, buffer_size)


def test_reads_do_not_keep_the_items_they_return(clients, request):
    """moto tracks every model object for its standalone dashboard; a read copies each item it returns, so a
    long-running endpoint grew with every Scan. The copies must be freed once answered."""
    import gc

    from moto.dynamodb.models.dynamo_type import Item

    ddb = clients("dynamodb")
    name = f"reads-{request.node.callspec.id}"
    _table(ddb, name)
    for i in range(50):
        ddb.put_item(TableName=name, Item={"k": {"S": f"o{i}"}, "status": {"S": "FULFILLED"}})

    def live_items() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Item)

    ddb.scan(TableName=name)
    before = live_items()
    for _ in range(20):
        assert len(ddb.scan(TableName=name)["Items"]) == 50
        assert ddb.get_item(TableName=name, Key={"k": {"S": "o1"}}, ProjectionExpression="#s",
                            ExpressionAttributeNames={"#s": "status"})["Item"] == {"status": {"S": "FULFILLED"}}
    assert live_items() - before < 50  # 20 scans kept 1,000 copies before the fix


def test_concurrent_conditional_writes_and_increments_are_atomic(clients, request):
    """20 threads at once, thread switches forced every microsecond: one conditional PutItem per key succeeds and
    no increment is lost. Without the lock the condition check and the write interleaved (double puts and lost
    increments in most rounds)."""
    import sys
    import threading

    ddb = clients("dynamodb")
    name = f"atomic-{request.node.callspec.id}"
    _table(ddb, name)
    workers = [clients("dynamodb") for _ in range(20)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(3):
            won, barrier = [], threading.Barrier(20)
            ddb.put_item(TableName=name, Item={"k": {"S": f"n{round_}"}, "n": {"N": "0"}})

            def race(client, i, round_=round_, won=won, barrier=barrier):
                barrier.wait()
                try:
                    client.put_item(TableName=name, Item={"k": {"S": f"p{round_}"}, "w": {"N": str(i)}},
                                    ConditionExpression="attribute_not_exists(k)")
                    won.append(i)
                except client.exceptions.ConditionalCheckFailedException:
                    pass
                client.update_item(TableName=name, Key={"k": {"S": f"n{round_}"}}, UpdateExpression="SET n = n + :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})

            threads = [threading.Thread(target=race, args=(client, i)) for i, client in enumerate(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(won) == 1, (round_, won)
            stored = ddb.get_item(TableName=name, Key={"k": {"S": f"p{round_}"}}, ConsistentRead=True)["Item"]
            assert stored["w"] == {"N": str(won[0])}
            counter = ddb.get_item(TableName=name, Key={"k": {"S": f"n{round_}"}}, ConsistentRead=True)["Item"]
            assert counter["n"] == {"N": "20"}, round_
    finally:
        sys.setswitchinterval(interval)


def test_concurrent_receives_take_each_message_once_and_a_long_poll_blocks_no_one(clients, request):
    """A received message is invisible to other consumers: 10 consumers at once, thread switches forced, never get
    the same message (moto gave one to two consumers, or answered 500 while another changed its in-flight set).
    A long poll waits without holding the queue: a send during it returns at once and the poll gets the message."""
    import sys
    import threading
    import time

    sqs = clients("sqs")
    url = sqs.create_queue(QueueName=f"receive-{request.node.callspec.id}",
                           Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    consumers = [clients("sqs") for _ in range(10)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(3):
            for start in range(0, 50, 10):
                sqs.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "MessageBody": f"{round_}-{start + i}"} for i in range(10)])
            received, barrier = [], threading.Barrier(len(consumers))

            def consume(client, received=received, barrier=barrier):
                barrier.wait()
                for _ in range(3):
                    received.extend(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))

            threads = [threading.Thread(target=consume, args=(client,)) for client in consumers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            bodies = [m["Body"] for m in received]
            assert len(bodies) == len(set(bodies)) == 50, round_
            for message in received:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    finally:
        sys.setswitchinterval(interval)

    polled = []
    poller = threading.Thread(target=lambda: polled.extend(
        consumers[0].receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])))
    poller.start()
    time.sleep(0.3)
    started = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="during the poll")
    assert time.monotonic() - started < 1.0
    poller.join(timeout=3)
    assert not poller.is_alive() and [m["Body"] for m in polled] == ["during the poll"]


def test_stats_count_requests_by_caller_and_operation(monkeypatch):
    import json
    import urllib.request

    gateway = Gateway()
    server = Server(gateway, "127.0.0.1", 0, "test-stats").start()
    try:
        _table(_http_client(server, "dynamodb"), "counted")
        for _ in range(3):
            _http_client(server, "dynamodb").get_item(TableName="counted", Key={"k": {"S": "a"}})
        in_process = _client("dynamodb", server.url, gateway)
        for _ in range(2):
            in_process.get_item(TableName="counted", Key={"k": {"S": "a"}})
        monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.13")  # what a Lambda worker's botocore sends
        _http_client(server, "dynamodb").put_item(TableName="counted", Item={"k": {"S": "b"}})
        _http_client(server, "sqs").list_queues()
        _http_client(server, "sns").create_topic(Name="counted")  # form-encoded: its Action is read from the body
        with urllib.request.urlopen(f"{server.url}/_local/stats") as response:
            stats = json.load(response)
        with urllib.request.urlopen(f"{server.url}/_local/stats?include=requests,invocations") as response:
            some = json.load(response)
    finally:
        server.stop()

    assert sorted(some) == ["invocations", "requests"] and some["requests"]["lambda"] == stats["requests"]["lambda"]
    cpu = stats.pop("cpuMs")
    threads = stats.pop("threadCpuMs")
    assert stats == {
        "requests": {
            "lambda": {"AmazonSQS.ListQueues": 1, "DynamoDB_20120810.PutItem": 1, "sns.CreateTopic": 1},
            "other": {"DynamoDB_20120810.CreateTable": 1, "DynamoDB_20120810.GetItem": 3},
            "runtime": {"DynamoDB_20120810.GetItem": 2},
        },
        "invocations": {},
    }
    # the CPU spent serving them, under the same callers and operations; "endpoint": what no AWS request named (a
    # connection its client closed); the stats request itself has not ended when it answers
    assert set(cpu.pop("endpoint", {})) <= {"(no AWS request)"}
    assert {caller: sorted(ops) for caller, ops in cpu.items()} == {
        caller: sorted(ops) for caller, ops in stats["requests"].items()}
    assert all(ms > 0 for ops in cpu.values() for ms in ops.values())
    assert "CP Server Thread" in threads and threads["MainThread"] > 0  # the server's request threads, this test's


def test_in_process_requests_carry_the_credential_scope_without_a_signature():
    """The runtime's own calls skip SigV4's canonical request and HMACs (no one in the process checks them) but
    keep the headers the gateway and moto route, count and tell accounts by; S3 keeps botocore's signer (its
    payload hash header is read by moto)."""
    seen: list[dict] = []
    gateway = Gateway()

    def app(environ, start_response):
        seen.append(dict(environ))
        return gateway(environ, start_response)

    _client("sqs", "http://127.0.0.1:4566", app).list_queues()
    _client("s3", "http://127.0.0.1:4566", app).list_buckets()
    sqs, s3 = seen
    key = FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
    date = sqs["HTTP_X_AMZ_DATE"][:8]
    assert sqs["HTTP_AUTHORIZATION"] == (f"AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/sqs/aws4_request, "
                                         f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}")
    assert sqs["HTTP_X_AMZ_SECURITY_TOKEN"] == FAKE_CREDENTIALS["AWS_SESSION_TOKEN"]
    assert s3["HTTP_AUTHORIZATION"].startswith(f"AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/s3/aws4_request")
    assert not s3["HTTP_AUTHORIZATION"].endswith("0" * 64)
    assert "HTTP_X_AMZ_CONTENT_SHA256" in s3


@pytest.mark.parametrize(("environ", "body", "operation"), [
    ({"HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}, None, "AWSStepFunctions.StartExecution"),
    ({"PATH_INFO": "/2015-03-31/functions/dofs-Api/invocations", "REQUEST_METHOD": "POST"}, None, "Lambda.Invoke"),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/sns/aws4_request, SignedHeaders=h",
      "REQUEST_METHOD": "POST", "PATH_INFO": "/"}, b"Action=Publish&Version=2010-03-31&TopicArn=x", "sns.Publish"),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/s3/aws4_request, SignedHeaders=h",
      "REQUEST_METHOD": "GET", "PATH_INFO": "/bucket"}, None, "s3 GET /bucket"),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/s3/aws4_request, SignedHeaders=h",
      "REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/orders/o-1.json"}, None, "s3 PUT /bucket/..."),
    ({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, None, "unsigned GET /"),
])
def test_stats_name_each_operation(environ, body, operation):
    from local_runtime.gateway import RequestCounts

    assert RequestCounts.operation(environ, body) == operation


def test_queue_counts_follow_each_message_state(clients, request):
    sqs = clients("sqs")
    url = sqs.create_queue(QueueName=f"counts-{request.node.callspec.id}")["QueueUrl"]
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert len(taken) == 1
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"],
            attributes["ApproximateNumberOfMessagesDelayed"]) == ("1", "1", "1")
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in left] == [{"a", "b"}.difference({taken[0]["Body"]}).pop()]


def test_a_send_reads_the_clock_as_often_whatever_the_queue_holds(endpoint, monkeypatch):
    from moto.sqs import models

    _, server = endpoint
    sqs = _http_client(server, "sqs")
    reads = []
    real = models.unix_time_millis

    def counting(*args):
        reads.append(1)
        return real(*args)

    def reads_per_send(url: str) -> int:
        reads.clear()
        sqs.send_message(QueueUrl=url, MessageBody="x")
        return len(reads)

    shallow = sqs.create_queue(QueueName="clock-shallow")["QueueUrl"]
    deep = sqs.create_queue(QueueName="clock-deep")["QueueUrl"]
    for _ in range(100):
        sqs.send_message(QueueUrl=deep, MessageBody="x")
    monkeypatch.setattr(models, "unix_time_millis", counting)

    assert reads_per_send(deep) == reads_per_send(shallow) > 0


def test_dynamodb_without_flask_answers_moto_errors_as_flask_did(endpoint, monkeypatch):
    """DynamoDB's POST / skips Flask (gateway/moto_app.py): an error moto raises as a werkzeug HTTP exception is still
    answered as itself (400 with its code), not as the endpoint's 500 for a failure inside moto."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.responses import DynamoHandler

    def refuse(*args, **kwargs):
        raise JsonRESTError("LimitExceededException", "too many")

    gateway, server = endpoint
    monkeypatch.setattr(DynamoHandler, "dispatch", refuse)
    ddb = _http_client(server, "dynamodb")
    with pytest.raises(ddb.exceptions.LimitExceededException) as refused:
        ddb.list_tables()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Message"] == "too many"


def test_loading_the_sample_data_is_counted_as_the_runtimes_own_requests(tmp_path):
    """``SAMPLE_DATA`` is written by the runtime at start-up: /_local/stats counts it under ``runtime``, and leaves
    ``other`` to the requests of users, tests and the AWS CLI."""
    from local_runtime.config import Settings
    from local_runtime.runtime import LocalRuntime

    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  CustomersTable:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      AttributeDefinitions: [{AttributeName: customer_id, AttributeType: S}]\n"
        "      KeySchema: [{AttributeName: customer_id, KeyType: HASH}]\n")
    (tmp_path / "sample.json").write_text('{"customers": [{"customer_id": "C-1"}, {"customer_id": "C-2"}]}')
    settings = Settings(template=tmp_path / "template.yaml", sample_data=tmp_path / "sample.json",
                        stack_name="sample", api_port=0, endpoint_port=0, watch=False)
    runtime = LocalRuntime(settings).start()
    try:
        counts = runtime.gateway.requests.snapshot()
    finally:
        runtime.stop()

    assert "other" not in counts
    assert counts["runtime"]["DynamoDB_20120810.BatchWriteItem"] == 1


def test_the_endpoint_queues_a_burst_of_new_connections():
    """The listening socket holds a burst of connections until a server thread accepts them: with cheroot's default
    backlog (5) the 7th simultaneous connect was dropped by the kernel and retried by the client 1 s later."""
    server = Server(Gateway(), "127.0.0.1", 0, "test-backlog")  # bound and listening; not accepting yet
    pending = []
    try:
        for _ in range(100):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            pending.append(connection)
    finally:
        for connection in pending:
            connection.close()
        server.start().stop()
    assert len(pending) == 100
