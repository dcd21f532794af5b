"""Use cases of the REST API (ApiFunction, functions/api_handler/app.py), one module per resource: ``orders`` (place
an order, read its status), ``approval`` (a reviewer's decision), ``batches``, ``quotes``, ``customers``."""
