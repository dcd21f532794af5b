"""One botocore data loader per search path, shared by every session of the process.

Each new botocore session builds its own loader, which reads and parses the service models again (DynamoDB's is a
large JSON file; endpoints.json is read by every session): 40-100 ms of CPU per client in a fresh session. botocore
caches each model in the loader, and one session's loader already serves all of that session's clients, so sharing
the loader between sessions changes nothing but the cost. Used by the Lambda fork server (each worker's first
clients) and by the tests (moto's ``mock_aws`` drops boto3's default session at every start).
"""
from __future__ import annotations

import functools


class _UniquePaths(list):
    """boto3 appends its data path to the loader of every session it wraps: once is enough."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def share_loaders() -> None:
    from botocore import session

    if getattr(session.create_loader, "shared", False):
        return
    create = session.create_loader

    @functools.lru_cache(maxsize=None)
    def create_loader(search_path_string=None):
        loader = create(search_path_string)
        loader._search_paths = _UniquePaths(loader.search_paths)  # noqa: SLF001 - the list boto3 appends to
        return loader

    create_loader.shared = True
    session.create_loader = create_loader
