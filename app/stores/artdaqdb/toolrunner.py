"""Run the site's artdaq_database tools, locally or on a remote host over ssh (artdaqdb.md §9).

Arguments are always lists, never a shell string with configuration values. Over ssh the remote
command is built only from `shlex.quote`d arguments; the database URI (which may hold a password)
travels on stdin, never on a command line, and the exit status reported is the tool's own, not
that of the clean-up that follows it.
"""

import io
import os
import re
import shlex
import signal
import subprocess
import tarfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.redact import redact
from app.stores.artdaqdb.errors import ArtdaqStoreError

URI_VARIABLE = "ARTDAQ_DATABASE_URI"
STAGING_FAILED = 125
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OUTPUT_TAIL = 2000


class Staging:
    """Placeholder in an argument list for the staging directory (local or remote path)."""


STAGING = Staging()


@dataclass(frozen=True)
class ToolRun:
    """A finished tool invocation: exit status and output, already redacted."""

    command: str
    returncode: int
    stdout: str
    stderr: str

    def tail(self) -> str:
        """The end of stderr (or stdout), for an error message."""
        text = (self.stderr.strip() or self.stdout.strip())[-_OUTPUT_TAIL:]
        return text or "(no output)"


class ToolTimeoutError(ArtdaqStoreError):
    """A tool that did not finish within its timeout; its process group was killed."""


@dataclass(frozen=True)
class ToolRunner:
    """How to start the tools: where (local or `remote_host`), with what environment and timeout."""

    uri: str
    timeout: float = 300.0
    remote_host: str | None = None
    strict_host_key_checking: bool = True
    environment: Mapping[str, str] = field(default_factory=dict)
    ssh_options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if "\n" in self.uri or "\r" in self.uri:
            raise ValueError("the database URI contains a line break")
        for name in self.environment:
            if not _ENV_NAME.fullmatch(name):
                raise ValueError(f"environment variable name {name!r} is not valid")
        if self.remote_host is not None and (
            not self.remote_host or self.remote_host.startswith("-")
        ):
            raise ValueError(f"remote host {self.remote_host!r} is not a host name")

    def _redacted(self, text: str) -> str:
        return redact(text, [self.uri])

    def run(
        self,
        argv: Sequence[str | Staging],
        *,
        staging: Path | None = None,
        fetch_back: bool = False,
    ) -> ToolRun:
        """Run one tool; with `staging`, its files are uploaded first (and fetched back after)."""
        if self.remote_host is None:
            return self._run_local(argv, staging)
        return self._run_remote(argv, staging, fetch_back)

    def _communicate(
        self, command: list[str], *, env: Mapping[str, str], stdin: bytes | None, cwd: Path | None
    ) -> tuple[int, bytes, bytes]:
        shown = self._redacted(shlex.join(command))
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise ArtdaqStoreError(f"cannot start {shown}: {exc.strerror}") from None
        try:
            stdout, stderr = process.communicate(stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ToolTimeoutError(f"{shown} did not finish within {self.timeout:g} s") from None
        return process.returncode, stdout, stderr

    def _finished(self, command: list[str], code: int, stdout: bytes, stderr: bytes) -> ToolRun:
        return ToolRun(
            self._redacted(shlex.join(command)),
            code,
            self._redacted(stdout.decode("utf-8", errors="replace")),
            self._redacted(stderr.decode("utf-8", errors="replace")),
        )

    def _run_local(self, argv: Sequence[str | Staging], staging: Path | None) -> ToolRun:
        command = [str(staging) if isinstance(arg, Staging) else arg for arg in argv]
        env = {**os.environ, **self.environment, URI_VARIABLE: self.uri}
        code, stdout, stderr = self._communicate(command, env=env, stdin=None, cwd=staging)
        return self._finished(command, code, stdout, stderr)

    def remote_script(
        self, argv: Sequence[str | Staging], remote_dir: str | None, fetch_back: bool
    ) -> str:
        """The single remote command: quoted arguments joined by fixed shell syntax only."""
        quote = shlex.quote
        steps = [f"IFS= read -r {URI_VARIABLE} || exit {STAGING_FAILED}", f"export {URI_VARIABLE}"]
        steps += [f"export {name}={quote(value)}" for name, value in self.environment.items()]
        if remote_dir is not None:
            target = quote(remote_dir)
            steps.append(f"mkdir -m 700 -- {target} || exit {STAGING_FAILED}")
            steps.append(
                f"tar -x -f - -C {target} || {{ rm -rf -- {target}; exit {STAGING_FAILED}; }}"
            )
        tool = " ".join(
            quote(remote_dir or "") if isinstance(arg, Staging) else quote(arg) for arg in argv
        )
        steps.append(f"{tool} 1>&2" if fetch_back else tool)
        steps.append("rc=$?")
        if remote_dir is not None:
            if fetch_back:
                steps.append(f"tar -c -f - -C {quote(remote_dir)} .")
            steps.append(f"rm -rf -- {quote(remote_dir)}")
        steps.append('exit "$rc"')
        return "sh -c " + quote("; ".join(steps))

    def ssh_command(self, remote_command: str) -> list[str]:
        """`ssh` with batch mode and host-key checking (on unless explicitly turned off)."""
        checking = "yes" if self.strict_host_key_checking else "no"
        assert self.remote_host is not None
        return [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            f"StrictHostKeyChecking={checking}",
            *self.ssh_options,
            "--",
            self.remote_host,
            remote_command,
        ]

    def _run_remote(
        self, argv: Sequence[str | Staging], staging: Path | None, fetch_back: bool
    ) -> ToolRun:
        remote_dir = f"/tmp/rra-{uuid.uuid4().hex}" if staging is not None else None  # noqa: S108
        command = self.ssh_command(self.remote_script(argv, remote_dir, fetch_back))
        payload = io.BytesIO()
        payload.write(self.uri.encode("utf-8") + b"\n")
        if staging is not None:
            with tarfile.open(fileobj=payload, mode="w") as archive:
                for path in sorted(staging.iterdir()):
                    archive.add(path, arcname=path.name)
        env = {**os.environ, **self.environment}
        code, stdout, stderr = self._communicate(
            command, env=env, stdin=payload.getvalue(), cwd=None
        )
        if code == 0 and fetch_back and staging is not None:
            try:
                with tarfile.open(fileobj=io.BytesIO(stdout), mode="r:") as archive:
                    archive.extractall(staging, filter="data")
            except tarfile.TarError as exc:
                raise ArtdaqStoreError(
                    f"{self.remote_host}: the files sent back are not a valid tar stream ({exc})"
                ) from None
            stdout = b""
        return self._finished(command, code, stdout, stderr)
