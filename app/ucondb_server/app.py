"""The ASGI app of the UconDB stand-in: the real server's endpoints, statuses and quirks.

Checks run in the real server's order (read-only, folder, object, authentication, `tv`, key),
uploads and `GET /data` share one lock, and every request is recorded in the state's log.
"""

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from app.ucondb_server import digest
from app.ucondb_server.protocol import (
    PRODUCT_VERSION,
    Params,
    ServerError,
    blob,
    integer,
    json_seq,
    json_text,
    number,
    one,
    params,
    text,
)
from app.ucondb_server.state import STALL_SECONDS, Fault, RecordedRequest, ServerState
from app.ucondb_server.store import KeyExists

DEFAULT_PREFIX = "/run_archive/app"
_NAME = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")


@dataclass
class _Call:
    """One request as the handlers see it."""

    request: Request
    state: ServerState
    lock: asyncio.Lock
    endpoint: str
    rest: str
    body: bytes
    body_size: int
    record: RecordedRequest

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def too_large(self) -> bool:
        return self.body_size > self.state.max_body_bytes


Handler = Callable[[_Call], Awaitable[Response]]


class _Dropped(Response):
    """Start a success answer, then close the connection without its body."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/json"), (b"content-length", b"256")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})


def create_app(
    state: ServerState, *, prefix: str = DEFAULT_PREFIX, control: bool = False
) -> Starlette:
    """The stand-in served under `prefix`; `control` adds the test-only `/_control` endpoints."""
    api: list[BaseRoute] = [
        Route("/version", _endpoint("version", _version)),
        Route("/probe", _endpoint("probe", _probe)),
        Route("/folders", _endpoint("folders", _folders)),
        Route("/objects", _endpoint("objects", _objects)),
        Route("/tags", _endpoint("tags", _tags)),
        Route("/versions", _endpoint("versions", _versions)),
        Route("/get_blob", _endpoint("get_blob", _get_blob)),
        Route("/data{rest:path}", _endpoint("data", _data), methods=["GET", "POST", "PUT"]),
        Route("/get{rest:path}", _endpoint("data", _download)),
        Route("/put{rest:path}", _endpoint("data", _upload), methods=["POST", "PUT"]),
        Route(
            "/lookup_versions{rest:path}",
            _endpoint("lookup_versions", _lookup_versions),
            methods=["GET", "POST"],
        ),
    ]
    routes: list[BaseRoute] = [Mount(prefix, routes=api)]
    if control:
        routes += [
            Route("/_control/requests", _control_requests, methods=["GET", "DELETE"]),
            Route("/_control/faults", _control_faults, methods=["GET", "POST", "DELETE"]),
            Route("/_control/read_only", _control_read_only, methods=["PUT"]),
        ]
    app = Starlette(routes=routes)
    app.state.ucon = state
    app.state.data_lock = asyncio.Lock()
    return app


def _endpoint(name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Read the body, run the handler, render its error, and record the request."""

    async def endpoint(request: Request) -> Response:
        state: ServerState = request.app.state.ucon
        body, size = await _read_body(request, state.max_body_bytes)
        rest = request.path_params.get("rest", "")
        record = RecordedRequest(
            method=request.method,
            endpoint=name,
            path=request.scope["raw_path"].decode("latin-1"),
            query=request.scope["query_string"].decode("latin-1"),
            body_size=size,
            authenticated=False,
        )
        state.record(record)
        call = _Call(request, state, request.app.state.data_lock, name, rest, body, size, record)
        try:
            if rest and not rest.startswith("/"):
                raise ServerError(404, "Not found")
            response = await handler(call)
        except ServerError as exc:
            response = exc.response()
        if not isinstance(response, _Dropped):
            record.status = response.status_code
        return response

    return endpoint


async def _read_body(request: Request, limit: int) -> tuple[bytes, int]:
    """The body and its size; beyond `limit` only the size is kept (as the real server fails)."""
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    return (b"".join(chunks) if size <= limit else b""), size


async def _arrival_faults(call: _Call, key: str | None) -> None:
    """Stall, delay or fail the request as scripted, before it touches storage."""
    take = call.state.take
    if fault := take("stall", call.endpoint, call.method, key):
        await asyncio.sleep(fault.seconds or STALL_SECONDS)
    if fault := take("delay", call.endpoint, call.method, key):
        await asyncio.sleep(fault.seconds)
    if fault := take("error", call.endpoint, call.method, key):
        raise ServerError(fault.status, f"Injected failure (HTTP {fault.status})")


def _folder(call: _Call, given: Params, missing_status: int, missing: str) -> str:
    """The fully qualified folder; an unknown one answers `missing_status` with `missing`."""
    name = one(given, "folder")
    if name is None or not _NAME.fullmatch(name):
        raise ServerError(500, f"Invalid folder name {name!r}")
    fq = call.state.store.qualify(name)
    if not call.state.store.has_folder(fq):
        raise ServerError(missing_status, missing.format(folder=name, fq=fq))
    return fq


# ------------------------------------------------------------------------------- simple reads


async def _version(call: _Call) -> Response:
    await _arrival_faults(call, None)
    return text(PRODUCT_VERSION)


async def _probe(call: _Call) -> Response:
    await _arrival_faults(call, None)
    return text("OK")


async def _folders(call: _Call) -> Response:
    given = params(call.request)
    await _arrival_faults(call, None)
    store = call.state.store
    return json_text(store.folders(one(given, "namespace", store.namespace) or store.namespace))


async def _objects(call: _Call) -> Response:
    fq = _folder(call, params(call.request), 500, 'relation "{fq}_versions" does not exist')
    await _arrival_faults(call, None)
    return json_text(call.state.store.objects(fq))


async def _tags(call: _Call) -> Response:
    fq = _folder(call, params(call.request), 500, 'relation "{fq}_tags" does not exist')
    await _arrival_faults(call, None)
    return json_text(call.state.store.tags(fq))


async def _versions(call: _Call) -> Response:
    given = params(call.request)
    fq = _folder(call, given, 404, "Folder {folder} not found")
    obj = one(given, "object")
    if obj is None:
        raise ServerError(500, "object is required")
    if not call.state.store.object_exists(fq, obj):
        raise ServerError(404, f"Object {obj} not found")
    tv = one(given, "tv")
    await _arrival_faults(call, None)
    tv_max = time.time() if tv is None else number(tv, "tv")
    return json_text(call.state.store.versions(fq, obj, tv_max))


# ----------------------------------------------------------------------------------- /data


async def _data(call: _Call) -> Response:
    return await (_upload(call) if call.method in ("POST", "PUT") else _download(call))


async def _upload(call: _Call) -> Response:
    given = params(call.request, call.rest, data_endpoint=True)
    state, store = call.state, call.state.store
    if state.read_only:
        raise ServerError(405, "Read-only instance")
    fq = _folder(call, given, 404, "Folder not found")
    obj = one(given, "object")
    if not obj:
        raise ServerError(400, "")
    key = one(given, "key")
    _authenticate(call, fq, key)
    await _arrival_faults(call, key)
    tv = number(one(given, "tv", "0") or "0", "tv")
    override = one(given, "override", "no") == "yes"
    exists = ServerError(500, f"Version of object {obj} with key {key} already exists")
    async with call.lock:
        if key is not None and not override and store.key_exists(fq, obj, key):
            raise exists
        if call.too_large:
            raise ServerError(
                500,
                f"invalid memory alloc request size {1 << (2 * call.body_size + 3).bit_length()}",
            )
        try:
            meta = store.insert(
                fq, obj, call.body, key=key, tags=given.get("tag", []), tv=tv, override=override
            )
        except KeyExists:
            raise exists from None
    if state.take("drop_after_store", call.endpoint, call.method, key):
        return _Dropped()
    if fault := state.take("delay_after_store", call.endpoint, call.method, key):
        await asyncio.sleep(fault.seconds)
    return json_text(meta) if one(given, "full_meta") == "yes" else text(str(meta["id"]))


def _authenticate(call: _Call, realm: str, key: str | None) -> None:
    """Digest as the real server checks it; the realm is the fully qualified folder."""
    state = call.state
    if state.take("reject_auth", call.endpoint, call.method, key):
        raise ServerError(401, "Authorization required")
    fields = digest.parse(call.request.headers.get("authorization", ""))
    if fields is None:
        challenge = {"WWW-Authenticate": digest.challenge(realm, time.time())}
        raise ServerError(401, "Authorization required", challenge)
    try:
        accepted = digest.check(fields, call.method, realm, state.credentials)
    except digest.MissingDigestField as exc:
        raise ServerError(500, f"KeyError: {exc}") from None
    if not accepted:
        raise ServerError(401, "Authorization required")
    call.record.authenticated = True
    call.record.digest_uri = fields["uri"]


async def _download(call: _Call) -> Response:
    given = params(call.request, call.rest, data_endpoint=True)
    store = call.state.store
    fq = _folder(call, given, 500, 'relation "{fq}_versions" does not exist')
    obj = one(given, "object") or ""
    key, tag = one(given, "key"), one(given, "tag")
    await _arrival_faults(call, key)
    async with call.lock:
        if (data_key := one(given, "data_key")) is not None:
            data = store.blob(fq, integer(data_key, "data_key"))
            if data is None:
                raise ServerError(404, "Data not found")
            return blob(data, {"X-UConDB-data-key": data_key, "X-UConDB-data-size": str(len(data))})
        if not store.object_exists(fq, obj):
            raise ServerError(500, f"'NoneType' object has no attribute 'versions' (object {obj})")
        if (version_id := one(given, "id")) is not None:
            data = store.version_data(fq, integer(version_id, "id"))
            if data is None:
                raise ServerError(500, f"Version {version_id} not found")
            return text(data)
        tv, tr = one(given, "tv"), one(given, "tr")
        found = store.select(
            fq,
            obj,
            key=key,
            tag=tag,
            tv_max=time.time() if tv is None else number(tv, "tv"),
            tr_max=None if tr is None else number(tr, "tr"),
        )
        if found is None:
            raise ServerError(404, "Version not found")
        meta = store.metadata(fq, found)
        if one(given, "meta_only") == "yes":
            return json_text(meta)
        data = store.version_data(fq, found) or b""
    if call.state.take("truncate", call.endpoint, call.method, key):
        data = data[: len(data) // 2]
    return blob(data, _version_headers(meta))


def _version_headers(meta: dict[str, Any]) -> dict[str, str]:
    return {
        "X-UConDB-product-version": PRODUCT_VERSION,
        "X-UConDB-version-id": str(meta["id"]),
        "X-UConDB-data-key": meta["data_key"],
        "X-UConDB-version-key": "null" if meta["key"] is None else meta["key"],
        "X-UConDB-data-size": str(meta["data_size"]),
        "X-UConDB-adler32": str(meta["adler32"]),
        "X-UConDB-tv": str(meta["tv"]),
        "X-UConDB-tr": str(meta["tr"]),
        "X-UConDB-metadata": json.dumps(meta),
        "X-UConDB-metadata-format": "text/json",
    }


# ------------------------------------------------------------------------ lookups and blobs


async def _lookup_versions(call: _Call) -> Response:
    if call.method != "POST":
        raise ServerError(500, "lookup_versions requires a POST body")
    given = params(call.request, call.rest)
    store = call.state.store
    fq = _folder(call, given, 404, "Folder {folder} not found")
    await _arrival_faults(call, None)
    try:
        query = json.loads(call.body)
    except ValueError:
        raise ServerError(500, "Expecting value: line 1 column 1 (char 0)") from None
    if not isinstance(query, dict):
        raise ServerError(500, "'list' object has no attribute 'get'")
    obj = one(given, "object")
    if query.get("ids"):
        records: list[Any] = store.by_ids(fq, [int(i) for i in query["ids"]])
    elif query.get("keys") or "key_min" in query or "key_max" in query:
        if obj is None:
            raise ServerError(500, "object is required for key lookups")
        if not store.object_exists(fq, obj):
            raise ServerError(404, f"Object {obj} not found")
        if query.get("keys"):
            records = store.by_keys(fq, obj, [str(k) for k in query["keys"]])
        else:
            records = store.by_key_range(fq, obj, query.get("key_min"), query.get("key_max"))
    elif query.get("tvs"):
        records = [None for _ in query["tvs"]]
    else:
        raise ServerError(500, "'NoneType' object is not iterable")
    call.state.shuffle(records)
    return json_seq(records)


async def _get_blob(call: _Call) -> Response:
    given = params(call.request)
    store = call.state.store
    fq = _folder(call, given, 404, "Folder {folder} not found")
    await _arrival_faults(call, None)
    data_key, version_id = one(given, "data_key"), one(given, "version_id")
    if (data_key is None) == (version_id is None):
        raise ServerError(400, "Exactly one of data_key or version_id is required")
    if data_key is not None:
        data = store.blob(fq, integer(data_key, "data_key"))
        missing = "Data not found"
    else:
        data = store.version_data(fq, integer(version_id or "", "version_id"))
        missing = "Version not found"
    if data is None:
        raise ServerError(404, missing)
    return Response(data, headers={"content-type": "application/octet-stream"})


# ------------------------------------------------------------------- test-only control routes


async def _control_requests(request: Request) -> Response:
    state: ServerState = request.app.state.ucon
    if request.method == "DELETE":
        state.clear_requests()
    return JSONResponse(state.requests_json())


async def _control_faults(request: Request) -> Response:
    state: ServerState = request.app.state.ucon
    if request.method == "POST":
        try:
            state.add_fault(Fault(**await request.json()))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    elif request.method == "DELETE":
        state.clear_faults()
    return JSONResponse([vars(f) for f in state.faults])


async def _control_read_only(request: Request) -> Response:
    state: ServerState = request.app.state.ucon
    state.read_only = (await request.body()).strip().lower() in (b"1", b"yes", b"true", b"on")
    return JSONResponse({"read_only": state.read_only})
