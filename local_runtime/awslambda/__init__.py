"""AWS Lambda, emulated: each function runs in awslambdaric worker processes fed by our Runtime API.

* ``models.py``: :class:`LambdaService`, Invoke by name or ARN (quotas, reserved concurrency, ``Event``/``DryRun``);
* ``functions.py``: :class:`FunctionSpec`, a function's configuration;
* ``interface.py``: what the other services call Lambda through (:class:`InvokeResult`);
* ``responses.py``: Invoke at the endpoint (``POST /2015-03-31/functions/{name}/invocations``);
* ``exceptions.py``: Lambda's error codes;
* ``event_sources/``: event source mappings, our pollers of SQS queues and DynamoDB streams;
* ``faults.py``: injected faults of chaos runs (``FAULTS``), hooked into the pool and the SQS event source;
* ``pool.py`` (warm workers of one function), ``worker.py`` (one awslambdaric process), ``runtime_api.py`` (the
  Runtime API it polls), ``forkserver.py`` (workers forked from a process with the common libraries imported).
"""
from local_runtime.awslambda.functions import FunctionSpec
from local_runtime.awslambda.interface import InvokeResult
from local_runtime.awslambda.models import LambdaService

__all__ = ["FunctionSpec", "InvokeResult", "LambdaService"]
