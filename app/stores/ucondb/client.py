"""HTTP client for UconDB (spec/ucondb.md §7): idempotent upload, byte-exact verify, listing.

An upload whose outcome is unknown (timeout, dropped connection, 5xx) is never re-sent blindly:
the key is looked up first, identical size and Adler-32 count as archived, anything else is a
conflict. Verification hashes the downloaded bytes as streamed; nothing is ever decoded.
"""

import hashlib
import logging
import random
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.stores.ucondb.checksums import BlobChecksums, checksums_of
from app.stores.ucondb.errors import ConflictError, UconDBError, VerifyError, server_message
from app.stores.ucondb.records import (
    RunListing,
    StoredVersion,
    check_name,
    key_ranges,
    parse_json_seq,
    run_key,
    runs_of,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BLOB_BYTES = 200 * 1024 * 1024
LOOKUP_BATCH = 1000
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Failures before anything was sent; every other transport failure leaves the outcome unknown.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class UploadResult:
    """Where the run's bytes are stored; `already_present` when this call sent no new version."""

    version_id: int
    data_key: str
    size: int
    adler32: int
    md5: str
    already_present: bool


@dataclass(frozen=True)
class VerifiedVersion:
    """A version whose headers and downloaded bytes matched ours exactly."""

    version_id: int
    data_key: str
    tr: float
    size: int
    adler32: int
    md5: str
    verified_at: datetime


class _AlreadyExists(Exception):
    """The upload lost the race for the key (500 "already exists"): look it up again."""


class UconDBClient:
    """One connection pool and one Digest state for one (server, folder, object).

    Uploads are serialised (the server processes them one at a time anyway); reads may run
    concurrently from several threads.
    """

    def __init__(
        self,
        server_url: str,
        folder: str,
        object_name: str = "configuration",
        *,
        user: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 120.0,
        connect_timeout_seconds: float = 10.0,
        ca_bundle: str | Path | None = None,
        max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES,
        attempts: int = 3,
        backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 30.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.base_url = _checked_base_url(server_url)
        self.folder = check_name("folder", folder)
        self.object_name = check_name("object", object_name)
        self._user = user
        self._password = password
        self._auth = self._new_auth()
        self._max_blob_bytes = max_blob_bytes
        self._attempts = max(1, attempts)
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = stop or threading.Event()
        self._upload_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
            verify=_tls_context(ca_bundle),
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> "UconDBClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"UconDBClient({self.base_url!r}, folder={self.folder!r}, object={self.object_name!r})"
        )

    # ----------------------------------------------------------------------------- reachability

    def version(self, timeout_seconds: float = 5.0) -> str:
        """The server's version string (`GET /version`), with a short timeout for health checks."""
        response = self._request("GET", "/version", timeout=timeout_seconds)
        if response.status_code != 200:
            raise _http_error("GET /version failed", response)
        return response.content.decode("ascii", "replace").strip()

    def check_folder(self) -> list[str]:
        """The folder's object names; a 500 means the folder is missing or the server is broken."""
        response = self._request("GET", "/objects", params={"folder": self.folder})
        if response.status_code == 500:
            raise UconDBError(
                f"UconDB folder {self.folder!r} is missing or the server is broken",
                reason="config",
                retryable=False,
                status=500,
                server_message=server_message(response),
            )
        if response.status_code != 200:
            raise _http_error("GET /objects failed", response)
        return [str(name) for name in response.json()]

    # ------------------------------------------------------------------------------------ lookup

    def lookup(self, run: int) -> StoredVersion | None:
        """The version stored under the run's key, or None."""
        return self.lookup_runs([run]).get(run)

    def lookup_runs(self, runs: Iterable[int]) -> dict[int, StoredVersion]:
        """Which of `runs` are stored, by exact key lookups in batches of at most 1 000 keys."""
        keys = sorted({run_key(run) for run in runs}, key=lambda k: (len(k), k))
        found: dict[int, StoredVersion] = {}
        for start in range(0, len(keys), LOOKUP_BATCH):
            batch = keys[start : start + LOOKUP_BATCH]
            found.update(runs_of(self._lookup_versions({"keys": batch})).runs)
        return found

    def archived_runs(self, first: int, last: int) -> RunListing:
        """Runs stored with keys in [first, last], by string-range lookups per decimal length."""
        records: list[dict[str, Any]] = []
        bounds = []
        for lo, hi, body in key_ranges(first, last):
            records += self._lookup_versions(body)
            bounds.append((lo, hi))
        return runs_of(records, bounds)

    def all_runs(self) -> RunListing:
        """Every version of the object (`GET /versions`, unpaged): for rare full reconciliation."""
        params = {"folder": self.folder, "object": self.object_name}
        response = self._request("GET", "/versions", params=params)
        if response.status_code == 404:
            self._raise_if_folder_missing(response)
            return RunListing({}, ())
        if response.status_code != 200:
            raise _http_error("GET /versions failed", response)
        return runs_of(response.json())

    def _lookup_versions(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        params = {"folder": self.folder, "object": self.object_name}
        response = self._request("POST", "/lookup_versions", params=params, json=body)
        if response.status_code == 404:
            self._raise_if_folder_missing(response)
            return []
        if response.status_code != 200:
            raise _http_error("POST /lookup_versions failed", response)
        return parse_json_seq(response.content)

    def _raise_if_folder_missing(self, response: httpx.Response) -> None:
        """404 "Object O not found" means no runs yet; anything else is a configuration error."""
        message = server_message(response)
        if not message.startswith("Object "):
            raise UconDBError(
                f"UconDB folder {self.folder!r} not found",
                reason="config",
                retryable=False,
                status=404,
                server_message=message,
            )

    # ------------------------------------------------------------------------------------ upload

    def upload(
        self,
        run: int,
        data: bytes,
        *,
        checksums: BlobChecksums | None = None,
        operator_override: bool = False,
    ) -> UploadResult:
        """Store `data` under the run's key unless that key already holds it (spec §7.4 A and B).

        `checksums` are the ones recorded when the blob was packed (saves re-hashing; size and
        Adler-32 are re-checked). Raises `ConflictError` when the key holds different content.
        `operator_override` moves the key to our bytes; only an explicit operator request for
        this one run may set it.
        """
        key = run_key(run)
        if self._auth is None:
            raise UconDBError(
                "UconDB writer_user and writer_password are required for uploads",
                reason="config",
                retryable=False,
                run=run,
            )
        ours = checksums or checksums_of(data)
        if (ours.size, ours.adler32) != (len(data), zlib.adler32(data) & 0xFFFFFFFF):
            raise ValueError(f"run {run}: the given checksums do not describe these bytes")
        if ours.size > self._max_blob_bytes:
            raise UconDBError(
                f"run {run}: blob of {ours.size} bytes exceeds the limit of "
                f"{self._max_blob_bytes} bytes",
                reason="too_large",
                retryable=False,
                run=run,
            )
        last: Exception | None = None
        with self._upload_lock:
            for attempt in range(1, self._attempts + 1):
                if last is not None and not isinstance(last, _AlreadyExists):
                    self._pause(attempt - 1, run)
                try:
                    stored = self.lookup(run)
                except UconDBError as exc:
                    if not exc.retryable:
                        raise
                    last = exc
                    continue
                if stored is not None and stored.matches(ours):
                    return _result(stored, ours, already_present=True)
                if stored is not None and not operator_override:
                    raise _conflict(run, stored, ours)
                try:
                    stored = self._post(
                        run, key, data, override=stored is not None, attempt=attempt
                    )
                except (_AlreadyExists, UconDBError) as exc:
                    # A read-only server is deferred by the caller, not retried within this call.
                    if isinstance(exc, UconDBError) and (
                        not exc.retryable or exc.reason == "read_only"
                    ):
                        raise
                    last = exc
                    continue
                if stored.key != key or not stored.matches(ours):
                    raise _conflict(run, stored, ours)
                return _result(stored, ours, already_present=False)
        raise _not_confirmed(run, self._attempts, last) from last

    def _post(
        self, run: int, key: str, data: bytes, *, override: bool, attempt: int
    ) -> StoredVersion:
        """One upload (one fresh Digest retry on a challenge-less 401); classify the outcome."""
        params = [("full_meta", "yes"), ("key", key), ("tag", key)]
        params.append(("override", "yes" if override else "no"))
        path = f"/data/{self.folder}/{self.object_name}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        for fresh in (False, True):
            if fresh:
                self._auth = self._new_auth()
            response = self._request(
                "POST",
                path,
                params=params,
                content=_Chunks(data),
                headers=headers,
                auth=self._auth,
                run=run,
                attempt=attempt,
            )
            if response.status_code != 401 or response.history or fresh:
                break
        status = response.status_code
        if status == 200:
            return StoredVersion.from_metadata(response.json())
        message = server_message(response)
        if status == 401:
            raise UconDBError(
                f"run {run}: UconDB rejected the credentials of user {self._user!r} "
                f"for folder {self.folder!r}",
                reason="auth",
                retryable=False,
                status=status,
                server_message=message,
                run=run,
            )
        if status == 404:
            raise UconDBError(
                f"run {run}: UconDB folder {self.folder!r} not found",
                reason="config",
                retryable=False,
                status=status,
                server_message=message,
                run=run,
            )
        if status == 405:
            raise UconDBError(
                f"run {run}: UconDB is read-only; try later",
                reason="read_only",
                retryable=True,
                status=status,
                server_message=message,
                run=run,
            )
        if status >= 500 and "already exists" in message:
            raise _AlreadyExists(message)
        if status >= 500:
            raise UconDBError(
                f"run {run}: upload outcome unknown",
                reason="outcome_unknown",
                retryable=True,
                status=status,
                server_message=message,
                run=run,
            )
        raise UconDBError(
            f"run {run}: UconDB refused the upload request (client bug)",
            reason="client",
            retryable=False,
            status=status,
            server_message=message,
            run=run,
        )

    def _new_auth(self) -> httpx.DigestAuth | None:
        """One Digest state per folder; it answers later uploads pre-emptively (spec §3.3)."""
        if self._user is None or self._password is None:
            return None
        return httpx.DigestAuth(self._user, self._password)

    # ------------------------------------------------------------------------------------ verify

    def verify(self, run: int, ours: BlobChecksums) -> VerifiedVersion:
        """Download the run's version and require our size, Adler-32 and MD5 (spec §7.4 C).

        Raises `ConflictError` when the server's headers describe other content, `VerifyError`
        when the bytes never arrive intact (or the key is absent) within the attempt budget.
        """
        key = run_key(run)
        last: UconDBError | None = None
        for attempt in range(1, self._attempts + 1):
            if last is not None:
                self._pause(attempt - 1, run)
            try:
                outcome = self._fetch(run, key, ours, attempt)
            except UconDBError as exc:
                if not exc.retryable:
                    raise
                last = exc
                continue
            if isinstance(outcome, VerifiedVersion):
                return outcome
            last = outcome
        assert last is not None
        raise last

    def _fetch(
        self, run: int, key: str, ours: BlobChecksums, attempt: int
    ) -> "VerifiedVersion | VerifyError":
        """One download: verified, or a retryable `VerifyError` value; conflicts are raised."""
        path = f"/data/{self.folder}/{self.object_name}/key={key}"
        with self._stream("GET", path, run=run, attempt=attempt) as response:
            if response.status_code == 404:
                response.read()
                return VerifyError(
                    f"run {run}: nothing stored under key {key}",
                    reason="absent",
                    retryable=True,
                    status=404,
                    server_message=server_message(response),
                    run=run,
                )
            if response.status_code != 200:
                response.read()
                raise _http_error(f"run {run}: download failed", response, run=run)
            stored = _stored_from_headers(response.headers)
            if stored is None or stored.key != key or not stored.matches(ours):
                raise _conflict(run, stored, ours)
            size, adler, md5 = self._digest_body(response, limit=ours.size)
        if (size, adler, md5) != (ours.size, ours.adler32, ours.md5):
            return VerifyError(
                f"run {run}: downloaded {size} bytes (md5 {md5}) but expected {ours.size} bytes "
                f"(md5 {ours.md5}); the transfer or the stored blob is damaged",
                reason="transfer",
                retryable=True,
                run=run,
            )
        return VerifiedVersion(
            version_id=stored.version_id,
            data_key=stored.data_key,
            tr=stored.tr,
            size=size,
            adler32=adler,
            md5=md5,
            verified_at=datetime.now(UTC).replace(tzinfo=None),
        )

    @staticmethod
    def _digest_body(response: httpx.Response, *, limit: int) -> tuple[int, int, str]:
        """Size, Adler-32 and MD5 of the body as streamed; stops once it is longer than `limit`."""
        md5 = hashlib.md5(usedforsecurity=False)
        adler = 1
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                break
            md5.update(chunk)
            adler = zlib.adler32(chunk, adler)
        return size, adler & 0xFFFFFFFF, md5.hexdigest()

    def download(self, run: int) -> bytes | None:
        """The stored bytes of the run's key (bounded by the blob limit), or None when absent.

        Before the first upload the server answers 500 (ucondb.md §4.4): the object list tells
        that apart from a broken server.
        """
        key = run_key(run)
        path = f"/data/{self.folder}/{self.object_name}/key={key}"
        with self._stream("GET", path, run=run, attempt=1) as response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                response.read()
                if response.status_code == 500 and self.object_name not in self.check_folder():
                    return None
                raise _http_error(f"run {run}: download failed", response, run=run)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self._max_blob_bytes:
                    raise UconDBError(
                        f"run {run}: stored blob exceeds {self._max_blob_bytes} bytes",
                        reason="too_large",
                        retryable=False,
                        run=run,
                    )
        return bytes(body)

    # ------------------------------------------------------------------------------- transport

    def _request(
        self, method: str, path: str, *, run: int | None = None, attempt: int = 1, **kwargs: Any
    ) -> httpx.Response:
        """One request; transport failures become retryable `UconDBError`s without secrets."""
        started = time.monotonic()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self._log(method, path, None, started, run, attempt)
            raise _transport_error(method, path, exc, run) from exc
        self._log(method, path, response.status_code, started, run, attempt)
        return response

    @contextmanager
    def _stream(
        self, method: str, path: str, *, run: int, attempt: int
    ) -> Iterator[httpx.Response]:
        """A streamed response; failures while reading the body are retryable transfer errors."""
        started = time.monotonic()
        status: int | None = None
        try:
            with self._http.stream(method, path) as response:
                status = response.status_code
                yield response
        except httpx.TransportError as exc:
            raise _transport_error(method, path, exc, run) from exc
        finally:
            self._log(method, path, status, started, run, attempt)

    def _log(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        run: int | None,
        attempt: int,
    ) -> None:
        log.info(
            "UconDB %s %s -> %s in %.0f ms (run %s, attempt %d)",
            method,
            path,
            status if status is not None else "no answer",
            (time.monotonic() - started) * 1000,
            run,
            attempt,
        )

    def _pause(self, retry: int, run: int) -> None:
        """Exponential backoff with jitter; ends early (with an error) when asked to stop."""
        delay = min(self._max_backoff, self._backoff * 2 ** (retry - 1))
        if self._stop.wait(delay * random.uniform(0.5, 1.0)):  # noqa: S311 (jitter, not crypto)
            raise UconDBError(
                f"run {run}: stopped while waiting to retry",
                reason="shutdown",
                retryable=True,
                run=run,
            )


@dataclass(frozen=True)
class _Chunks:
    """A request body sent in slices of `data`: the HTTP layer copies each chunk it frames, and a
    blob sent as one chunk would be copied whole. Iterable again for the Digest re-send."""

    data: bytes
    size: int = 1024 * 1024

    def __iter__(self) -> Iterator[memoryview]:
        view = memoryview(self.data)
        return (view[start : start + self.size] for start in range(0, len(view), self.size))


def _checked_base_url(server_url: str) -> str:
    """HTTPS always, except plain HTTP on loopback for tests; never credentials in the URL."""
    url = httpx.URL(server_url.rstrip("/"))
    if url.userinfo:
        raise ValueError(
            "UconDB server_url must not contain credentials; set writer_user/writer_password"
        )
    if url.scheme == "https" or (url.scheme == "http" and url.host in _LOOPBACK):
        return str(url)
    raise ValueError(
        f"UconDB server_url must use https (plain http only on loopback), got "
        f"{url.scheme}://{url.host}"
    )


def _tls_context(ca_bundle: str | Path | None) -> ssl.SSLContext:
    """Verification is always on: the system store, or a CA file or hashed CA directory."""
    if ca_bundle is None:
        return ssl.create_default_context()
    path = Path(ca_bundle)
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        return ssl.create_default_context(cafile=str(path))
    raise ValueError(f"UconDB ca_bundle {path} is neither a file nor a directory")


def _stored_from_headers(headers: httpx.Headers) -> StoredVersion | None:
    """The version the download describes, from its `X-UConDB-*` headers."""
    try:
        key = headers["X-UConDB-version-key"]
        return StoredVersion(
            version_id=int(headers["X-UConDB-version-id"]),
            key=None if key == "null" else key,
            data_key=headers.get("X-UConDB-data-key", ""),
            size=int(headers["X-UConDB-data-size"]),
            adler32=int(headers["X-UConDB-adler32"]) & 0xFFFFFFFF,
            tr=float(headers.get("X-UConDB-tr", "0")),
            tags=(),
        )
    except (KeyError, ValueError):
        return None


def _result(stored: StoredVersion, ours: BlobChecksums, *, already_present: bool) -> UploadResult:
    return UploadResult(
        version_id=stored.version_id,
        data_key=stored.data_key,
        size=stored.size,
        adler32=stored.adler32,
        md5=ours.md5,
        already_present=already_present,
    )


def _conflict(run: int, stored: StoredVersion | None, ours: BlobChecksums) -> ConflictError:
    held = (
        f"version {stored.version_id} (key {stored.key!r}, {stored.size} bytes, "
        f"adler32 {stored.adler32})"
        if stored is not None
        else "a version without usable X-UConDB headers"
    )
    return ConflictError(
        f"run {run}: UconDB holds {held}, ours is {ours.size} bytes, adler32 {ours.adler32}; "
        "an operator must resolve it",
        run=run,
        stored=stored,
        ours=ours,
    )


def _not_confirmed(run: int, attempts: int, last: Exception | None) -> UconDBError:
    """The retryable error of an upload whose every attempt ended without a confirmed version."""
    message = f"run {run}: upload not confirmed after {attempts} attempts; last: "
    if isinstance(last, UconDBError):
        return UconDBError(
            message + last.summary,
            reason=last.reason,
            retryable=True,
            status=last.status,
            server_message=last.server_message,
            run=run,
        )
    return UconDBError(message + str(last), reason="outcome_unknown", retryable=True, run=run)


def _http_error(what: str, response: httpx.Response, *, run: int | None = None) -> UconDBError:
    status = response.status_code
    return UconDBError(
        what,
        reason="server" if status >= 500 else "client",
        retryable=status >= 500,
        status=status,
        server_message=server_message(response),
        run=run,
    )


def _transport_error(
    method: str, path: str, exc: httpx.TransportError, run: int | None
) -> UconDBError:
    if isinstance(exc, _NOT_SENT):
        reason = "unreachable"
    elif isinstance(exc, httpx.TimeoutException):
        reason = "timeout"
    else:
        reason = "transfer"
    return UconDBError(
        f"UconDB {method} {path}: {type(exc).__name__}: {exc}",
        reason=reason,
        retryable=True,
        run=run,
    )
