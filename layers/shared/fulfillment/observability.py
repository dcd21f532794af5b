"""Powertools logger, tracer and metrics shared by every handler (configured by POWERTOOLS_* env)."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Reads (GET /orders/{id}, price quotes) and rejected requests publish no application metric by design; Powertools'
# metrics documentation suggests this filter for functions that do not publish metrics on every invocation.
warnings.filterwarnings("ignore", "No application metrics to publish*")
