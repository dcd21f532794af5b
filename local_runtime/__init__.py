"""DOFS's Docker-free local runtime: the same template.yaml, ASL files and handlers, served on 127.0.0.1.

One package per emulated AWS service, named as moto names it: ``awslambda/`` (Lambda, with its event source
mappings in ``awslambda/event_sources/``), ``apigateway/``, ``stepfunctions/``, ``events/`` (EventBridge), ``sns/``,
``sqs/``, ``dynamodb/`` (our fixes to moto's DynamoDB and Streams) and ``logs/`` (CloudWatch Logs). ``gateway/`` is
the one AWS-compatible endpoint (:4566) that routes each request to its service or to moto; ``runtime.py`` wires the
stack together and ``__main__.py`` is its command line. README.md ("Architecture") has the full module map.
"""
