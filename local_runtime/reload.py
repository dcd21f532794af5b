"""Hot reload (``WATCH=1``, the default): a saved change reaches the next invocation, without restarting the runtime.

watchfiles (inotify on Linux) watches each function's code directory, each layer's directory and each state
machine's definition file, recursively, and the template's own directory (not recursively: it holds .venv).
:meth:`Reloader.reload` turns a set of changed paths into actions; the watch threads call it about 50 ms after the
last write of a save, and tests call it directly.

* A file under a function's ``CodeUri``: that function's warm workers are recycled (idle ones stop now, busy ones
  when their invocation ends), so its next invocation imports the new code in a new worker. A file under a
  layer's ``ContentUri``: the same for every function that uses the layer. The fork server preloads only
  libraries installed in .venv (awslambda/forkserver.py ``PRELOAD``; ``PYTHONPATH``, and with it every layer,
  is not on its path), so a layer change never needs a new fork server; a change to a file it did preload would
  replace it (``LambdaService.restart_forkserver``). A layer's ``requirements.txt`` is not installed locally (the
  runtime uses .venv, from requirements-dev.txt): a change to it is reported, not applied.
* A state machine's ``DefinitionUri`` file: ``UpdateStateMachine`` with the rendered definition (its
  ``DefinitionSubstitutions`` applied), as a deploy would. Running executions finish on the definition they started
  with; an invalid definition is reported with the validator's message and the state machine keeps the old one.
* ``template.yaml``: loaded and resolved again, then compared with the running one. Applied live: a function's
  environment, handler, timeout, memory size, reserved concurrency, code or layer directories (its workers are
  recycled); a state machine's definition, substitutions, logging and tracing configuration (UpdateStateMachine);
  the Outputs. IAM roles and policies, Lambda permissions and API deployments are not enforced locally and are
  ignored. Anything else that changed, appeared or disappeared (tables, queues, topics, rules, event sources, the
  API, parameters' effects on those) is reported: ``restart make run to apply: <logical ids>``
  (``/_local/health`` lists them under ``restartNeeded``).
"""
from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from local_runtime.errors import ServiceError

log = logging.getLogger("local_runtime.reload")

# Properties a running function can take without a restart (FunctionSpec fields), and the state machines' ones
LIVE_FUNCTION_PROPERTIES = frozenset({"Environment", "Handler", "Timeout", "MemorySize", "Layers", "Code",
                                      "ReservedConcurrentExecutions", "Description", "Tags", "TracingConfig"})
LIVE_STATE_MACHINE_PROPERTIES = frozenset({"DefinitionString", "DefinitionS3Location", "Definition",
                                           "DefinitionSubstitutions", "LoggingConfiguration",
                                           "TracingConfiguration", "Tags"})
# Not enforced or not run locally: a change to them needs nothing
IGNORED_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
                           "AWS::ApiGateway::Deployment", "AWS::Lambda::Version"})
DEBOUNCE_MS = 1600  # watchfiles: the longest a burst of writes is gathered
STEP_MS = 50  # watchfiles: quiet time after the last write before the changes are handed over


def preloaded_roots() -> list[Path]:
    """Directories (or files) of the packages the Lambda fork server preloads, found as it finds them."""
    from local_runtime.awslambda.forkserver import PRELOAD

    roots: list[Path] = []
    for name in sorted({module.split(".")[0] for module in PRELOAD}):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        if spec.submodule_search_locations:
            roots.extend(Path(location).resolve() for location in spec.submodule_search_locations)
        elif spec.origin:
            roots.append(Path(spec.origin).resolve())
    return roots


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Reloader:
    """Watches the runtime's sources and applies changes (see the module docstring)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.preloaded = preloaded_roots()
        self.restart_needed: dict[str, str] = {}  # logical id -> what changed since start that only a restart applies
        self.started_with = runtime.stack  # what was provisioned: what a restart would change
        self.history: list[str] = []  # every message, oldest first
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._version = 0  # bumped when the watched paths change (a template reload): the watch loops restart
        self._threads: list[threading.Thread] = []

    # -- watching ------------------------------------------------------------------------------------------------

    def watched(self) -> tuple[list[Path], list[Path]]:
        """(directories watched recursively, directories watched alone)."""
        stack = self.runtime.stack
        recursive: set[Path] = set()
        for resource in stack.resources.values():
            if not resource.local_path:
                continue
            path = Path(resource.local_path)
            if resource.type == "AWS::StepFunctions::StateMachine":
                path = path.parent
            if path.is_dir():
                recursive.add(path.resolve())
        template = Path(self.runtime.settings.template).resolve()
        # a directory inside another is watched by the outer one already
        outer = sorted(p for p in recursive if not any(q != p and _under(p, q) for q in recursive))
        return outer, [template.parent]

    def start(self) -> "Reloader":
        self._spawn()
        return self

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self) -> None:
        recursive, flat = self.watched()
        version = self._version
        for paths, is_recursive in ((recursive, True), (flat, False)):
            if paths:
                thread = threading.Thread(target=self._watch, args=(paths, is_recursive, version),
                                          name=f"reload-watch-{'tree' if is_recursive else 'root'}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _watch(self, paths: list[Path], recursive: bool, version: int) -> None:
        import watchfiles

        reloader = self

        class _Stop:
            @staticmethod
            def is_set() -> bool:
                return reloader._stopped.is_set() or reloader._version != version

        template = Path(self.runtime.settings.template).resolve()

        def wanted(change: Any, path: str) -> bool:
            if not watchfiles.DefaultFilter()(change, path):
                return False
            return recursive or Path(path).resolve() == template

        try:
            for changes in watchfiles.watch(*paths, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS,
                                            stop_event=_Stop(), recursive=recursive, raise_interrupt=False):
                try:
                    self.reload(changes)
                except Exception:  # noqa: BLE001 - a failed reload must not end the watching
                    log.exception("reload failed")
        except Exception:  # noqa: BLE001 - e.g. a watched directory was deleted
            if not self._stopped.is_set():
                log.exception("watching %s stopped", ", ".join(map(str, paths)))

    # -- reloading -----------------------------------------------------------------------------------------------

    def reload(self, changes: Iterable[tuple[Any, str] | str]) -> list[str]:
        """Apply a set of changed paths (watchfiles' ``(Change, path)`` pairs or plain paths); returns what was
        done, one message per action (each is also logged)."""
        changes = list(changes)
        paths = {Path(c if isinstance(c, str) else c[1]).resolve() for c in changes}
        passing = _appeared_and_went(changes)
        paths = {p for p in paths if not _scratch(p) and p not in passing}
        if not paths:
            return []
        with self._lock:
            messages: list[str] = []
            saved = max((p.stat().st_mtime for p in paths if p.exists()), default=time.time())
            template = Path(self.runtime.settings.template).resolve()
            if template in paths:
                messages += self._reload_template()
            _forget_bytecode(paths)
            messages += self._reload_code(paths)
            messages += self._reload_definitions(paths)
            lag = max(0.0, time.time() - saved)
            for message in messages:
                text = f"{message} ({lag:.2f} s after the save)"
                self.history.append(text)
                (log.warning if "restart" in message or "invalid" in message or "cannot" in message
                 else log.info)("reload: %s", text)
            self._publish_status()
            return messages

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.runtime.stack.root))
        except ValueError:
            return str(path)

    def _reload_code(self, paths: set[Path]) -> list[str]:
        stack, service = self.runtime.stack, self.runtime.lambda_service
        messages: list[str] = []
        if service is None:
            return messages
        if any(_under(path, root) for path in paths for root in self.preloaded):
            service.restart_forkserver()
            messages.append("a library the Lambda fork server preloads changed: fork server restarted, every "
                            "function gets new workers")
            return messages
        functions = stack.of_type("AWS::Lambda::Function")
        causes: dict[str, list[str]] = {}
        for resource in functions:
            code = Path(resource.local_path).resolve() if resource.local_path else None
            for path in paths:
                if code is not None and _under(path, code):
                    causes.setdefault(resource.logical_id, []).append(self._relative(path))
        for layer in stack.of_type("AWS::Lambda::LayerVersion"):
            if not layer.local_path:
                continue
            root = Path(layer.local_path).resolve()
            changed = sorted(self._relative(p) for p in paths if _under(p, root))
            if not changed:
                continue
            if any(Path(c).name == "requirements.txt" for c in changed):
                messages.append(f"{self._relative(root / 'requirements.txt')} changed: the local runtime runs the "
                                "layer's libraries from .venv (requirements-dev.txt); add them there and restart "
                                "make run")
            code_changes = [c for c in changed if Path(c).name != "requirements.txt"]
            if not code_changes:
                continue
            for resource in functions:
                if layer.physical_id in (resource.properties.get("Layers") or []):
                    causes.setdefault(resource.logical_id, []).extend(code_changes)
        if not causes:
            return messages
        by_logical = {r.logical_id: r.physical_id for r in functions}
        recycled = service.recycle([by_logical[logical_id] for logical_id in causes])
        for logical_id in sorted(causes):
            files = sorted(set(causes[logical_id]))
            shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            count = recycled.get(by_logical[logical_id], 0)
            messages.append(f"{logical_id}: {shown} changed; {count} warm worker{'s' if count != 1 else ''} "
                            "recycled, the next invocation runs the new code")
        return messages

    def _reload_definitions(self, paths: set[Path]) -> list[str]:
        messages = []
        for resource in self.runtime.stack.of_type("AWS::StepFunctions::StateMachine"):
            if resource.local_path and Path(resource.local_path).resolve() in paths:
                messages.append(self._update_state_machine(resource, self._relative(Path(resource.local_path))))
        return messages

    def _update_state_machine(self, resource: Any, cause: str, logging_config: Any = None) -> str:
        from local_runtime.cfn import api_casing
        from local_runtime.template import TemplateError, render_definition

        service = self.runtime.stepfunctions
        arn = resource.physical_id
        machine = service.machines.get(arn)
        if machine is None:
            return f"{resource.logical_id}: not running; restart make run to apply {cause}"
        try:
            definition = render_definition(resource)
        except (OSError, TemplateError) as exc:
            return f"{cause} cannot be read: {exc}; {resource.logical_id} keeps its definition"
        body: dict[str, Any] = {"stateMachineArn": arn}
        if definition != machine.definition:
            body["definition"] = definition
        props = resource.properties
        if "LoggingConfiguration" in props and api_casing(props["LoggingConfiguration"]) != machine.logging:
            body["loggingConfiguration"] = api_casing(props["LoggingConfiguration"])
        if "TracingConfiguration" in props and api_casing(props["TracingConfiguration"]) != machine.tracing:
            body["tracingConfiguration"] = api_casing(props["TracingConfiguration"])
        if len(body) == 1:
            return f"{resource.logical_id}: {cause} saved, definition unchanged"
        try:
            service.handle("UpdateStateMachine", body)
        except ServiceError as exc:
            return f"{cause} is invalid ({exc.code}: {exc.message}); {resource.logical_id} keeps its definition"
        what = ", ".join(k[:-len("Configuration")] if k.endswith("Configuration") else k for k in body if k != "stateMachineArn")
        return (f"{resource.logical_id}: {cause} -> UpdateStateMachine ({what}); new executions use it, running "
                "ones finish on theirs")

    def _reload_template(self) -> list[str]:
        from local_runtime.config import ACCOUNT_ID, REGION
        from local_runtime.template import load_template

        runtime, settings = self.runtime, self.runtime.settings
        name = Path(settings.template).name
        try:
            new = load_template(settings.template, settings.overrides, stack_name=settings.stack_name, region=REGION,
                                account_id=ACCOUNT_ID, endpoint_url=runtime.endpoint_url)
        except Exception as exc:  # noqa: BLE001 - a half-saved or invalid template: keep running the old one
            return [f"{name} changed but cannot be loaded ({exc}); the runtime keeps the previous one"]
        old = runtime.stack
        applied, restart = self.apply_stack(old, new)
        old_paths = self.watched()
        runtime.stack = new
        if hasattr(runtime, "_local_outputs"):
            runtime.outputs = runtime._local_outputs()  # noqa: SLF001
            runtime.gateway.outputs = runtime.outputs
        messages = []
        if applied:
            messages.append(f"{name} changed: applied live: {'; '.join(applied)}")
        if restart and restart != self.restart_needed:
            messages.append(f"{name} changed: restart make run to apply: "
                            + ", ".join(f"{k} ({v})" for k, v in sorted(restart.items())))
        elif self.restart_needed and not restart:
            messages.append(f"{name} changed: it matches the running stack again, no restart needed")
        elif not applied:
            messages.append(f"{name} changed: nothing the local runtime runs differs"
                            + (f" (still to restart for: {', '.join(sorted(restart))})" if restart else ""))
        self.restart_needed = restart
        if self.watched() != old_paths and not self._stopped.is_set() and self._threads:
            self._version += 1  # the watch loops stop and start again on the new paths
            self._threads = []
            self._spawn()
        return messages

    def apply_stack(self, old: Any, new: Any) -> tuple[list[str], dict[str, str]]:
        """Apply what can change live from ``old`` to ``new``; return (what was applied, {logical id: what needs a
        restart, compared with the stack the runtime started with}): a change undone needs no restart any more."""
        from local_runtime.awslambda.functions import function_spec

        applied: list[str] = []
        problems: dict[str, str] = {}
        for logical_id in sorted(set(old.resources) & set(new.resources)):
            before, after = old.resources[logical_id], new.resources[logical_id]
            if before.type != after.type or _fixed(before) != _fixed(after):
                continue  # not live: named by fixed_changes
            if after.type == "AWS::Lambda::Function":
                spec = function_spec(new, after)
                if spec != function_spec(old, before):
                    count = self.runtime.lambda_service.update_function(spec)
                    changed = sorted(k for k in LIVE_FUNCTION_PROPERTIES
                                     if before.properties.get(k) != after.properties.get(k))
                    if before.local_path != after.local_path:
                        changed.append("CodeUri")
                    applied.append(f"{logical_id} ({', '.join(changed) or 'configuration'}; {count} warm "
                                   f"worker{'s' if count != 1 else ''} recycled)")
            elif after.type == "AWS::StepFunctions::StateMachine":
                if before.properties == after.properties and before.local_path == after.local_path:
                    continue  # its definition file is the watcher's business, not the template's
                message = self._update_state_machine(after, "its template properties")
                if "UpdateStateMachine" in message:
                    applied.append(message)
                elif "unchanged" not in message:
                    problems[logical_id] = message
        restart = fixed_changes(self.started_with, new)
        restart.update(problems)
        return applied, restart

    def _publish_status(self) -> None:
        gateway = getattr(self.runtime, "gateway", None)
        if gateway is None:
            return
        status = dict(gateway.status)
        status.pop("restartNeeded", None)
        if self.restart_needed:
            status["restartNeeded"] = sorted(self.restart_needed)
        status["reloads"] = len(self.history)
        gateway.status = status


def _fixed(resource: Any) -> dict:
    """The properties of a resource that only a restart can change."""
    live = {"AWS::Lambda::Function": LIVE_FUNCTION_PROPERTIES,
            "AWS::StepFunctions::StateMachine": LIVE_STATE_MACHINE_PROPERTIES}.get(resource.type)
    if live is None:
        return {"properties": resource.properties, "path": resource.local_path}
    return {k: v for k, v in resource.properties.items() if k not in live}


def fixed_changes(base: Any, new: Any) -> dict[str, str]:
    """{logical id: added / removed / changed} for what differs between two stacks beyond what applies live."""
    changes: dict[str, str] = {}
    for logical_id in sorted(set(base.resources) | set(new.resources)):
        before, after = base.resources.get(logical_id), new.resources.get(logical_id)
        if (after or before).type in IGNORED_TYPES:
            continue
        if before is None or after is None:
            changes[logical_id] = "added" if before is None else "removed"
        elif before.type != after.type or _fixed(before) != _fixed(after):
            changes[logical_id] = "changed"
    return changes


def _scratch(path: Path) -> bool:
    """An editor's scratch file (hidden, like ``.app.py.swp`` or a ``.file.tmp`` renamed over the file, or vim's
    ``4913`` probe): not a source."""
    return path.name.startswith(".") or path.name.isdigit()


def _appeared_and_went(changes: list) -> set[Path]:
    """Files created and gone again within one batch of changes: an editor's or a tool's temporary file (``sed -i``
    writes ``sedXXXXXX`` beside the file and renames it over it), never a source the runtime loads."""
    added = {Path(c[1]).resolve() for c in changes if not isinstance(c, str) and int(c[0]) == 1}  # Change.added
    return {path for path in added if not path.exists()}


def _forget_bytecode(paths: set[Path]) -> None:
    """Remove the cached bytecode of changed modules: Python trusts a .pyc whose recorded source mtime (whole
    seconds) and size still match, so an edit within the same second that keeps the size would be missed."""
    for path in paths:
        if path.suffix != ".py":
            continue
        try:
            Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
        except (OSError, ValueError, NotImplementedError):
            pass
