"""A local Microsoft Graph v1.0 + Microsoft identity platform over TLS, for tests that drive
the real msal and httpx.

    with FakeGraph() as graph:
        graph.add_app("contoso", "app-id", "app-secret")
        graph.add_mailbox("ann@contoso.com")
        graph.add_message("ann@contoso.com", raw_mime, received)
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE silently replaces .verify
        session.verify = str(graph.ca_path)
        app = msal.ConfidentialClientApplication(
            "app-id", client_credential="app-secret", authority=graph.authority("contoso"),
            http_client=session, instance_discovery=False)
        token = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        client = httpx.Client(verify=ssl.create_default_context(cafile=str(graph.ca_path)))
        client.get(graph.graph_url + "/users/ann@contoso.com/messages", headers=...)

Identity: ``/{tenant}/v2.0/.well-known/openid-configuration``, ``/{tenant}/oauth2/v2.0/token``
(see `graph_oauth`). Graph: ``/v1.0/...`` (see `graph_api`) and ``POST /v1.0/$batch`` (see
`graph_batch`). Every Graph call passes, in order: authentication (401), the target mailbox
(404 unknown, 403 not the caller's), injected faults (`GraphFaults`), the mailbox's
concurrency slot and request window (`graph_faults.MailboxLimits`), ``latency_seconds`` (and a
slow fault's sleep, while holding the slot), then the route.
"""

from __future__ import annotations

import copy
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ingest_pipeline_tests.fakes.graph_api import GraphApi, GraphCall, route
from ingest_pipeline_tests.fakes.graph_batch import BatchPart, parse_batch, part_answer
from ingest_pipeline_tests.fakes.graph_delta import EXPIRED_CODES
from ingest_pipeline_tests.fakes.graph_directory import GraphDirectory
from ingest_pipeline_tests.fakes.graph_faults import (
    FaultDice,
    GraphFaults,
    GraphStats,
    MailboxLimits,
    concurrency_error,
    quota_error,
)
from ingest_pipeline_tests.fakes.graph_oauth import Principal
from ingest_pipeline_tests.fakes.graph_tls import server_context, write_test_pki
from ingest_pipeline_tests.fakes.graph_wire import GraphError, Reply, aad_error, json_reply
from ingest_pipeline_tests.fakes.local_http import LocalHTTPServer, ServedFake

__all__ = ["FakeGraph", "GraphFaults", "GraphStats"]

BATCH_PATH = "/v1.0/$batch"
BATCH_MARK = "$batch:"


@dataclass
class _Ids:
    """The ids Graph echoes in headers and error bodies."""

    request_id: str
    client_request_id: str

    @classmethod
    def new(cls, headers: dict[str, str], fallback: str | None = None) -> _Ids:
        request_id = str(uuid.uuid4())
        return cls(request_id, headers.get("client-request-id") or fallback or request_id)


class FakeGraph(GraphDirectory, ServedFake):
    """Microsoft Graph and its token endpoint on ``https://127.0.0.1:<random port>``.

    Mutable while running: ``faults`` (a `GraphFaults`), ``latency_seconds`` (slept by every
    Graph request that gets past authentication and limits, not by identity), ``clock``
    (monotonic seconds, for token lifetimes and the request window), ``sleep``,
    ``delta_expired_code`` ("syncStateNotFound" or "resyncRequired"), ``shuffle_batch`` and
    ``limits`` (concurrency, requests per window, window seconds). ``stats`` is a snapshot
    (assign ``GraphStats()`` to reset); ``requests`` lists ``(method, target)`` of every
    request, batch parts as ``(method, "$batch:" + their url)``; ``server_errors`` holds
    tracebacks of bugs in the fake.
    """

    def __init__(
        self,
        *,
        latency_seconds: float = 0.0,
        faults: GraphFaults | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        mailbox_concurrency: int = 4,
        mailbox_requests_per_window: int = 10_000,
        window_seconds: float = 600.0,
        delta_expired_code: str = "syncStateNotFound",
        shuffle_batch: bool = True,
        seed: int = 0,
    ) -> None:
        if delta_expired_code not in EXPIRED_CODES:
            raise ValueError(f"delta_expired_code must be one of {EXPIRED_CODES}")
        self.latency_seconds = latency_seconds
        self.clock: Callable[[], float] = clock or time.monotonic
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self.delta_expired_code = delta_expired_code
        self.shuffle_batch = shuffle_batch
        self.limits = MailboxLimits(
            concurrency=mailbox_concurrency,
            requests_per_window=mailbox_requests_per_window,
            window_seconds=window_seconds,
        )
        self.server_errors: list[str] = []
        self._dice = FaultDice(faults or GraphFaults())
        self._stats = GraphStats()
        self._requests: list[tuple[str, str]] = []
        self._tls_dir = tempfile.TemporaryDirectory(prefix="fake-graph-tls-")
        tls = write_test_pki(Path(self._tls_dir.name))
        self.ca_path: Path = tls.ca_path
        self._http = LocalHTTPServer(
            self._serve,
            self._record_error,
            name="fake-graph",
            server_version="Microsoft-IIS/10.0",
            bug_reply=lambda: GraphError(
                500, "generalException", "fake Graph bug: see FakeGraph.server_errors"
            ).reply("", ""),
            ssl_context=server_context(tls),
        )
        self.base_url = f"https://127.0.0.1:{self._http.port}"
        self.graph_url = self.base_url + "/v1.0"
        super().__init__(base_url=self.base_url, seed=seed)
        self._api = GraphApi(
            self.base_url, self._tokens, self._count_value, lambda: self.delta_expired_code
        )

    def stop(self) -> None:
        super().stop()
        self._tls_dir.cleanup()

    def authority(self, tenant: str) -> str:
        """The msal authority for ``tenant``: ``https://127.0.0.1:<port>/<tenant>``."""
        return f"{self.base_url}/{tenant}"

    @property
    def instance_discovery_url(self) -> str:
        """For msal's ``instance_discovery=`` when a test wants that request made too."""
        return self.base_url + "/common/discovery/instance"

    @property
    def faults(self) -> GraphFaults:
        return self._dice.faults

    @faults.setter
    def faults(self, faults: GraphFaults | None) -> None:
        with self._lock:
            self._dice = FaultDice(faults or GraphFaults())

    @property
    def stats(self) -> GraphStats:
        with self._lock:
            return copy.deepcopy(self._stats)

    @stats.setter
    def stats(self, stats: GraphStats) -> None:
        with self._lock:
            self._stats = stats

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def _serve(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        """Answer one HTTP request; None means: close the connection without answering."""
        path = unquote(urlsplit(target).path)
        with self._lock:
            self._requests.append((method, target))
        if path == "/v1.0" or path.startswith("/v1.0/"):
            return self._graph_request(method, target, path, headers, body)
        with self._lock:
            reply = self._identity_request(method, path, urlsplit(target).query, body)
            self._stats.statuses[reply.status] += 1
            return reply

    def _identity_request(self, method: str, path: str, query: str, body: bytes) -> Reply:
        segments = path.strip("/").split("/")
        tenant, rest = segments[0], segments[1:]
        if rest == ["v2.0", ".well-known", "openid-configuration"]:
            self._stats.requests["openid"] += 1
            return self._identity.openid_configuration(tenant)
        if rest == ["oauth2", "v2.0", "token"]:
            self._stats.requests["token"] += 1
            grant_type, reply = self._identity.token(tenant, method, body, self.clock())
            if reply.status == 200:
                self._stats.token_grants[grant_type] += 1
            return reply
        if path == "/common/discovery/instance":
            self._stats.requests["instance_discovery"] += 1
            return self._identity.instance_discovery(query)
        self._stats.requests["unknown"] += 1
        return aad_error(404, "invalid_request", 900144, f"No identity endpoint at {path}.")

    def _graph_request(
        self, method: str, target: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        ids = _Ids.new(headers)
        entered: list[str] = []  # mailboxes whose concurrency slot this request holds
        try:
            with self._lock:
                faults = self._dice.faults
                if self._dice.roll(faults.drop_rate):
                    self._stats.dropped += 1
                    return None
                slow = self._dice.roll(faults.slow_rate)
                self._stats.slowed += slow
                try:
                    if path == BATCH_PATH:
                        self._stats.requests["batch"] += 1
                        batch = self._prepare_batch(method, headers, body, entered)
                    else:
                        call = self._resolve(method, target, headers, None)
                        self._gate(call, entered=entered, over_limit=None)
                except GraphError as exc:  # refused at the door: answered without latency
                    return self._finish(self._error(exc, ids), ids)
            delay = self.latency_seconds + (faults.slow_seconds if slow else 0.0)
            if delay > 0:
                self.sleep(delay)
            with self._lock:
                if path == BATCH_PATH:
                    return self._finish(self._run_batch(batch, ids), ids)
                return self._finish(self._execute(call, ids), ids)
        finally:
            if entered:
                with self._lock:
                    for key in entered:
                        self.limits.leave(key)

    def _finish(self, reply: Reply, ids: _Ids) -> Reply:
        self._stats.statuses[reply.status] += 1
        reply.headers += [
            ("request-id", ids.request_id),
            ("client-request-id", ids.client_request_id),
            ("x-ms-ags-diagnostic", '{"ServerInfo":{"DataCenter":"Local","Slice":"E"}}'),
            ("Strict-Transport-Security", "max-age=31536000"),
        ]
        return reply

    def _error(self, exc: GraphError, ids: _Ids) -> Reply:
        if exc.throttle_reason is not None:
            self._stats.throttled[exc.throttle_reason] += 1
        return exc.reply(ids.request_id, ids.client_request_id)

    def _resolve(
        self, method: str, target: str, headers: dict[str, str], principal: Principal | None
    ) -> GraphCall:
        """Route, authenticate (top-level) and open the mailbox of one Graph call."""
        split = urlsplit(target)
        path = unquote(split.path)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        found = route(path)
        self._stats.requests[found[0] if found else "unknown"] += 1
        principal = principal or self.authenticate(headers, self.clock())
        if found is None:
            segment = path.rstrip("/").rsplit("/", 1)[-1]
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
        if method != "GET":
            raise GraphError(
                405, "ErrorInvalidRequest", f"The fake Graph only reads: {method} {path}"
            )
        name, groups = found
        mailbox = self.open_mailbox(groups.get("user"), principal, name)
        self._stats.requests_per_mailbox[mailbox.key] += 1
        return GraphCall(name, path, params, groups, headers, principal, mailbox)

    def _gate(self, call: GraphCall, *, entered: list[str], over_limit: set[str] | None) -> None:
        """Injected faults, then the mailbox's concurrency slot (top-level calls take one;
        batch parts were given theirs in ``over_limit``) and request window."""
        fault = self._dice.call_fault()
        if fault is not None:
            raise fault
        key = call.mailbox.key
        if over_limit is None:
            if not self.limits.try_enter(key):
                raise concurrency_error(self._dice.faults.retry_after_seconds)
            entered.append(key)
            self._note_in_flight(key)
        elif key in over_limit:
            raise concurrency_error(self._dice.faults.retry_after_seconds)
        wait = self.limits.try_spend(key, self.clock())
        if wait is not None:
            raise quota_error(wait, self.limits)

    def _note_in_flight(self, key: str) -> None:
        current = self.limits.in_flight[key]
        if current > self._stats.max_in_flight.get(key, 0):
            self._stats.max_in_flight[key] = current

    def _execute(self, call: GraphCall, ids: _Ids) -> Reply:
        try:
            return self._api.run(call)
        except GraphError as exc:
            return self._error(exc, ids)

    def _prepare_batch(
        self, method: str, headers: dict[str, str], body: bytes, entered: list[str]
    ) -> _PreparedBatch:
        """Authenticate and parse the batch, open each part's mailbox and take one concurrency
        slot per mailbox (parts of a mailbox over its limit will answer 429)."""
        principal = self.authenticate(headers, self.clock())
        if method != "POST":
            raise GraphError(405, "BadRequest", "$batch only accepts POST.")
        parts = parse_batch(body)
        self._stats.batch_parts += len(parts)
        resolved: list[tuple[BatchPart, GraphCall | GraphError]] = []
        for part in parts:
            self._requests.append((part.method, BATCH_MARK + part.url))
            try:
                call = self._resolve(part.method, part.target, part.headers, principal)
                resolved.append((part, call))
            except GraphError as exc:
                resolved.append((part, exc))
        over_limit: set[str] = set()
        for key in dict.fromkeys(c.mailbox.key for _, c in resolved if isinstance(c, GraphCall)):
            if self.limits.try_enter(key):
                entered.append(key)
                self._note_in_flight(key)
            else:
                over_limit.add(key)
        return _PreparedBatch(resolved, over_limit)

    def _run_batch(self, prepared: _PreparedBatch, ids: _Ids) -> Reply:
        answers = []
        for part, resolved in prepared.parts:
            part_ids = _Ids.new(part.headers, ids.client_request_id)
            if isinstance(resolved, GraphError):
                reply = self._error(resolved, part_ids)
            else:
                try:
                    self._gate(resolved, entered=[], over_limit=prepared.over_limit)
                    reply = self._api.run(resolved)
                except GraphError as exc:
                    reply = self._error(exc, part_ids)
            self._stats.statuses[reply.status] += 1
            answers.append(part_answer(part.id, reply))
        if self.shuffle_batch:
            self._rng.shuffle(answers)
        return json_reply(200, {"responses": answers})

    def _count_value(self, message_id: str) -> None:
        self._stats.value_served[message_id] += 1

    def _record_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)


@dataclass
class _PreparedBatch:
    parts: list[tuple[BatchPart, GraphCall | GraphError]]
    over_limit: set[str]
