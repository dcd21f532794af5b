"""DOFS shared domain code (SharedLayer), in layers: the use cases by entry point (``api/``, ``tasks/``,
``consumers/``, and ``compensation`` that two of them share) over the order ``lifecycle``, data access
(``repository``) and ``models``, over ``config``, ``errors`` and the status words (``status``). Never imports
functions/ nor the local runtime: .importlinter holds the contracts, tests/contract/test_import_contracts.py checks
them."""
