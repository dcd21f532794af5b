"""Fixes to moto's DynamoDB and DynamoDB Streams, applied once when the gateway is built (gateway/moto_app.py): the
same answers (but for the set-order note below), less CPU, each request atomic and shard iterators that expire, as
on AWS. Each fix was found by profiling the runtime process under the order workflow (docs/benchmarks.md), or by a
race or a memory test:

* ``TransactWriteItems`` backed up every table it touches with ``copy.deepcopy`` of the whole table (every item,
  plus the table's stream records) before running, so a transaction cost O(table size) and the stack slowed down as
  the tables filled. The rollback now keeps a deep copy of the touched items only (and the stream's length):
  a cancelled transaction still leaves those items, and the stream, as they were. moto's own code still runs the
  transaction (conditions, errors, cancellation reasons); only the backup it takes is replaced.
* DynamoDB answers were serialised attribute value by attribute value through moto's generic, shape-driven
  serializer (several objects and a generator per member). An ``AttributeValue`` made only of strings, numbers,
  booleans, nulls, string/number sets, lists and maps is already in its wire form: it is now copied as such. Any
  other value (binary, unexpected types) still takes moto's path.
* Requests were parsed the same way in reverse: every ``AttributeValue`` (each key, item attribute and expression
  value) went member by member through moto's shape-driven parser. A plain one (as above) parses to itself: it is
  now copied as such; anything else still takes moto's path.
* UpdateItem parsed its ``UpdateExpression`` twice per request (the handler, then the backend) into an AST that
  the validator deep-copies before use: the parse is now memoised per expression text (the cached AST is never
  modified: the validator works on its copy).
  The validator's deep copy of that AST (``copy.deepcopy``, about 0.4 ms) is done by a walk over the node tree
  (same objects, same parent links); anything in a node that is not a node, a list of nodes or a plain value is
  still copied by ``copy.deepcopy``. A tree it has copied once is pickled once and each later copy is unpickled
  from those bytes (one C call: the same nodes, values and parent links; about a third of the walk's CPU), as
  long as that very tree (the memoised AST) is copied again; a tree pickle refuses is walked as before.
* The validator then walked that AST ten times per UpdateItem (one depth-first pass per processor), rebuilding each
  processor's table of node types for every node, and its first three passes (at most one SET/ADD/REMOVE clause, no
  overlapping paths, no key attribute updated) redo the same check on every request: they read only the expression,
  its ``ExpressionAttributeNames`` and the table's key attributes, and change nothing. Which processor of a pass
  handles a node is now decided once per node type (moto's nodes are ABCs, whose isinstance tests are slow), and
  those three checks run once per (memoised expression, names, key attributes) that passed
  them; the passes that read the item and the values still run on every request. (About a third of an UpdateItem's
  CPU in the endpoint, profiled under the order workflow.)
* A ``ConditionExpression`` (or FilterExpression) was lexed from its text, character class by character class with
  regular expressions compiled per token, on every request: the tokens, which depend on the text alone, are now
  memoised per expression text (the parse that resolves names and values still runs per request).
* A ``ProjectionExpression`` (GetItem, BatchGetItem, Query, Scan) converted the whole item to Python values and back
  for every item read. When every projected path is a plain top-level attribute name, the projected item is now
  built from those attributes directly; nested paths and list indexes still take moto's path. (One visible
  difference: the members of a projected string/number/binary set keep their stored order, as an unprojected read
  returns them, where moto's round trip through Python sets reordered them; set order is unspecified in DynamoDB.)
* moto runs a DynamoDB request's condition check and its write as separate steps, with nothing held between
  them, while the endpoint serves requests on many threads: when the interpreter switched threads between the two
  steps, two conditional PutItems on one key could both succeed and concurrent ``SET n = n + :one`` updates lost
  increments (found as two orders behind one Idempotency-Key). DynamoDB makes every single-item write and every
  transaction atomic; each DynamoDB request now runs under one lock, from its parsed parameters to its answer
  (:func:`atomic_requests`, also applied by the tests to moto's in-process mock).
* DynamoDB Streams kept every shard iterator it ever handed out (each GetRecords returns a new one, about 2 KB with
  its random id), so the stream poller's four GetRecords a second grew the process without end (measured with
  tracemalloc: the largest per-order growth after executions were bounded). Iterators now expire 15 minutes after
  they were handed out, as AWS documents; GetRecords with an expired (or never issued) one answers
  ``ExpiredIteratorException`` (400) instead of moto's KeyError (``_expiring_shard_iterators``).
"""
from __future__ import annotations

import collections
import functools
import threading
from typing import Any

from local_runtime.locks import Section, once

_backup = threading.local()  # .skip: inside our TransactWriteItems wrapper, the whole-table copy is not needed


@once
def apply() -> None:
    """Every fix of this module (idempotent)."""
    _cheap_transaction_backup()
    _plain_attribute_values()
    _plain_attribute_values_in_requests()
    _memoise_update_expressions()
    _tree_copy_of_expressions()
    _cheaper_update_validation()
    _memoise_condition_tokens()
    _top_level_projection()
    _expiring_shard_iterators()
    atomic_requests()


class _CopyModule:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: in a wrapped TransactWriteItems, the
    whole-table backup is the table itself (our wrapper restores the touched items instead)."""

    def __init__(self, real: Any, table_type: type) -> None:
        self._real = real
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if type(value) is self._table_type and getattr(_backup, "skip", False):
            return value
        return self._real.deepcopy(value, memo)


class _TouchedItems:
    """The items a transaction may write, as they were before it ran; restore() puts them back."""

    def __init__(self, backend: Any, transact_items: list) -> None:
        import copy

        from moto.dynamodb.models.dynamo_type import DynamoType

        self.entries: list[tuple[Any, Any, Any, bool, Any]] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            source = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(source[table.hash_key_attr])
            range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
            had_bucket = hash_key in table.items
            if range_key is None:
                current = table.items.get(hash_key)
            else:
                current = table.items[hash_key].get(range_key) if had_bucket else None
            self.entries.append((table, hash_key, range_key, had_bucket, copy.deepcopy(current)))
            if table.stream_shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, had_bucket, item in reversed(self.entries):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            bucket = table.items.get(hash_key)
            if item is None:
                if bucket is not None:
                    bucket.pop(range_key, None)
                    if not bucket and not had_bucket:
                        del table.items[hash_key]
            else:
                table.items[hash_key][range_key] = item
        for shard, length in self.streams.values():
            del shard.items[length:]


def _cheap_transaction_backup() -> None:
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    models.copy = _CopyModule(copy, Table)
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list) -> None:
        try:
            touched = _TouchedItems(self, transact_items)
        except Exception:  # a malformed entry: moto's own code reports it (with its whole-table backup)
            return original(self, transact_items)
        _backup.skip = True
        try:
            return original(self, transact_items)
        except BaseException:
            touched.restore()
            raise
        finally:
            _backup.skip = False

    models.DynamoDBBackend.transact_write_items = transact_write_items


_SCALAR_TYPES = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_SET_TYPES = ("SS", "NS")
_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """``value`` as moto's serializer would write this AttributeValue, or ``_NOT_PLAIN`` when it needs moto's path."""
    if type(value) is not dict or len(value) != 1:
        return _NOT_PLAIN
    (kind, inner), = value.items()
    scalar = _SCALAR_TYPES.get(kind)
    if scalar is not None:
        return {kind: inner} if type(inner) is scalar else _NOT_PLAIN
    if kind in _SET_TYPES:
        if type(inner) is list and all(type(v) is str for v in inner):
            return {kind: list(inner)}
        return _NOT_PLAIN
    if kind == "M" and type(inner) is dict:
        out = {}
        for name, member in inner.items():
            converted = _plain(member)
            if converted is _NOT_PLAIN:
                return _NOT_PLAIN
            out[name] = converted
        return {"M": out}
    if kind == "L" and type(inner) is list:
        items = []
        for member in inner:
            converted = _plain(member)
            if converted is _NOT_PLAIN:
                return _NOT_PLAIN
            items.append(converted)
        return {"L": items}
    return _NOT_PLAIN


def _plain_attribute_values() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    @functools.wraps(original)
    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and \
                self.operation_model.service_model.service_name in ("dynamodb", "dynamodbstreams"):
            converted = _plain(value)
            if converted is not _NOT_PLAIN:
                self._default_serialize(serialized, converted, shape, key)
                return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure


def _plain_attribute_values_in_requests() -> None:
    from moto.core.parse import BaseJSONParser

    original = BaseJSONParser._parse_structure

    @functools.wraps(original)
    def _parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if shape.name == "AttributeValue" and \
                self.operation_model.service_model.service_name in ("dynamodb", "dynamodbstreams"):
            converted = _plain(value)
            if converted is not _NOT_PLAIN:
                return converted
        return original(self, shape, value)

    BaseJSONParser._parse_structure = _parse_structure


def _memoise_update_expressions() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__

    @functools.lru_cache(maxsize=1024)
    def cached(cls: type, expression_str: str) -> Any:
        return make(cls, expression_str)

    def make_once(cls: type, expression_str: Any) -> Any:
        if not isinstance(expression_str, str):
            return make(cls, expression_str)
        return cached(cls, expression_str)

    UpdateExpressionParser.make = classmethod(make_once)


_CHECKED_MAX = 4096  # (expression, names, key attributes) combinations remembered as having passed the checks


def _cheaper_update_validation() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    # moto's node classes are ABCs: isinstance() against them takes the slow path. Whether a node type is a Node, and
    # which processor of a pass handles it, is decided once per type (by the same isinstance tests, in the same order)
    is_node: dict[type, bool] = {}

    def handler(self: Any, node: Any) -> Any:
        table = self.__dict__.get("_dofs_handlers")
        if table is None:
            table = self.__dict__["_dofs_handlers"] = {}
        kind = type(node)
        if kind not in table:
            table[kind] = next((processor for class_key, processor in self._processing_map().items()
                                if isinstance(node, class_key)), None)
        return table[kind]

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        node_type = is_node.get(kind)
        if node_type is None:
            node_type = is_node[kind] = isinstance(node, Node)
        if node_type:
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = handler(self, node)
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively

    # checks that read only the expression's AST, its names and the table's key attributes, and return it unchanged
    pure = (validators.ActionCountValidator, validators.OverlappingPathsValidator,
            validators.UpdateHashRangeKeyValidator)
    checked: dict[tuple, Any] = {}  # key -> the expression AST (kept, so its id is not reused while remembered)
    checked_lock = threading.Lock()
    cls = validators.UpdateExpressionValidator
    init, validate = cls.__init__, cls.validate

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        init(self, expression, *args, **kwargs)
        self._dofs_source = expression

    def validate_once(self: Any) -> Any:
        names = self.expression_attribute_names or {}
        try:
            key = (id(self._dofs_source), tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
            hash(key)  # a name's value that is a list or a map sorts, but cannot be a key
        except (AttributeError, TypeError):  # names that are not strings: moto's own path reports them
            return validate(self)
        with checked_lock:
            known = checked.get(key) is self._dofs_source
        if known:
            self.processors = [p for p in self.processors if not isinstance(p, pure)]
            return validate(self)
        result = validate(self)  # raises when a check fails: nothing remembered
        with checked_lock:
            if len(checked) >= _CHECKED_MAX:
                checked.clear()
            checked[key] = self._dofs_source
        return result

    cls.__init__ = __init__
    cls.validate = validate_once


def _memoise_condition_tokens() -> None:
    from collections import deque

    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression

    @functools.lru_cache(maxsize=1024)
    def tokens(expression: str) -> tuple:
        parser = ConditionExpressionParser(expression, None, None)
        return tuple(lex(parser))

    def lex_once(self: Any) -> Any:
        expression = self.condition_expression
        if not isinstance(expression, str):
            return lex(self)
        return deque(tokens(expression))

    ConditionExpressionParser._lex_condition_expression = lex_once


def _top_level_projection() -> None:
    from moto.dynamodb.models.dynamo_type import Item

    original = Item.project

    @functools.wraps(original)
    def project(self: Any, projection_expressions: list) -> Any:
        if not all(len(path) == 1 and type(path[0]) is str and "[" not in path[0] for path in projection_expressions):
            return original(self, projection_expressions)
        attrs = {}
        for (name,) in projection_expressions:
            value = self.attrs.get(name)
            if value is not None:
                attrs[name] = value.to_json()
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=attrs)

    Item.project = project


REQUESTS = Section()  # held by every DynamoDB request from its parsed parameters to its answer


@once
def atomic_requests() -> None:
    """One DynamoDB request at a time through moto (idempotent): condition checks and writes cannot interleave."""
    from moto.dynamodb.responses import DynamoHandler

    DynamoHandler.call_action = REQUESTS.around(DynamoHandler.call_action)


_ATOMIC = (str, int, float, bool, type(None))


def _tree_copy_of_expressions() -> None:
    import copy
    import pickle

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    def copy_node(node: Any, memo: dict) -> Any:
        done = memo.get(id(node))
        if done is not None:
            return done
        new = object.__new__(type(node))
        memo[id(node)] = new
        state = {}
        for name, value in node.__dict__.items():
            if type(value) in _ATOMIC:
                state[name] = value
            elif isinstance(value, Node):
                state[name] = copy_node(value, memo)
            elif type(value) is list and all(isinstance(v, Node) or type(v) in _ATOMIC for v in value):
                state[name] = [copy_node(v, memo) if isinstance(v, Node) else v for v in value]
            else:
                state[name] = copy.deepcopy(value, memo)
        new.__dict__.update(state)
        return new

    pickled: dict[int, tuple[Any, bytes | None]] = {}  # id(tree) -> (the tree, kept so its id stays its own; bytes)
    pickled_lock = threading.Lock()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Node) and not hasattr(type(value), "__deepcopy__"):
            if memo is None:
                with pickled_lock:
                    known = pickled.get(id(value))
                if known is not None and known[0] is value:
                    blob = known[1]
                    return copy_node(value, {}) if blob is None else pickle.loads(blob)
                try:
                    blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
                except Exception:  # something in the tree pickle cannot take: walked each time
                    blob = None
                with pickled_lock:
                    if len(pickled) >= _CHECKED_MAX:
                        pickled.clear()
                    pickled[id(value)] = (value, blob)
            return copy_node(value, {} if memo is None else memo)
        return copy.deepcopy(value, memo)

    validators.deepcopy = deepcopy


SHARD_ITERATOR_SECONDS = 15 * 60  # a DynamoDB Streams shard iterator expires 15 minutes after it is returned (AWS)


def _monotonic() -> float:
    """The clock shard iterators expire by (a function, so tests can move it)."""
    import time

    return time.monotonic()


class _ExpiringIterators(dict):
    """Shard iterators by ARN, forgotten SHARD_ITERATOR_SECONDS after they were handed out (oldest first)."""

    def __init__(self) -> None:
        super().__init__()
        # ARN -> when, oldest first: expiry pops from the front, each ARN once (O(1) amortised per iterator)
        self._issued: collections.OrderedDict[str, float] = collections.OrderedDict()

    def __setitem__(self, key: str, value: Any) -> None:
        now = _monotonic()
        issued = self._issued
        while issued:
            old, when = next(iter(issued.items()))
            if now - when < SHARD_ITERATOR_SECONDS:
                break
            issued.popitem(last=False)
            self.pop(old, None)
        super().__setitem__(key, value)
        issued[key] = now
        issued.move_to_end(key)  # handed out again: it expires 15 minutes from now, after the others


def _expiring_shard_iterators() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    init = DynamoDBStreamsBackend.__init__
    get_records = DynamoDBStreamsBackend.get_records

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.shard_iterators = _ExpiringIterators()

    def get_records_or_expired(self, iterator_arn: str, limit: int) -> Any:
        if iterator_arn not in self.shard_iterators:
            raise JsonRESTError("ExpiredIteratorException", "Iterator expired: shard iterators expire 15 minutes "
                                                            "after they are returned (or it was never issued)")
        return get_records(self, iterator_arn, limit)

    DynamoDBStreamsBackend.__init__ = __init__
    DynamoDBStreamsBackend.get_records = get_records_or_expired
