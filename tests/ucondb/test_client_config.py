"""Client construction rules: HTTPS and TLS verification, names, secrets (spec/ucondb.md §7.1)."""

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from app.stores.ucondb import UconDBClient, UconDBError
from app.stores.ucondb.errors import server_message
from app.ucondb_server import make_state, serve_in_background
from app.ucondb_server.protocol import error_page


@pytest.mark.parametrize(
    "url",
    ["http://ucondb.example.org:9443/run_archive/app", "ftp://127.0.0.1/app", "ucondb/app"],
)
def test_plain_http_is_refused_outside_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="must use https"):
        UconDBClient(url, "run_records")


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError) as error:
        UconDBClient("https://archiver:T0psecret@ucondb.example.org/app", "run_records")

    assert "T0psecret" not in str(error.value)
    assert "must not contain credentials" in str(error.value)


@pytest.mark.parametrize(("folder", "obj"), [("run-records", "configuration"), ("f", "a.b.c")])
def test_folder_and_object_names_are_validated(folder: str, obj: str) -> None:
    with pytest.raises(ValueError, match=r"must match"):
        UconDBClient("https://ucondb.example.org/app", folder, obj)


def test_missing_ca_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"ca_bundle .*nope"):
        UconDBClient("https://ucondb.example.org/app", "f", ca_bundle=tmp_path / "nope")


def test_password_never_appears_in_the_client_repr() -> None:
    client = UconDBClient("https://ucondb.example.org/app/", "f", user="u", password="S3cr3t!")

    assert "S3cr3t!" not in repr(client)
    assert client.base_url == "https://ucondb.example.org/app"


def test_server_message_keeps_the_h3_and_drops_the_traceback() -> None:
    page = httpx.Response(500, content=error_page("Version of object o with key 1 already exists"))
    plain = httpx.Response(404, content=b"Folder x not found")
    long = httpx.Response(502, content=b"<html><body>" + b"bad gateway " * 100 + b"</body></html>")

    assert server_message(page) == "Version of object o with key 1 already exists"
    assert server_message(plain) == "Folder x not found"
    assert server_message(long).startswith("bad gateway bad gateway")
    assert len(server_message(long)) == 300
    assert "<" not in server_message(long)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def local_ca(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1: (ca, cert, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca, ca_key = tmp_path / "ca.pem", tmp_path / "ca.key"
    cert, key, csr = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "server.csr"
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "1", "-subj", "/CN=rra test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext),
    )  # fmt: skip
    return ca, cert, key


def test_tls_is_verified_against_the_configured_ca(local_ca: tuple[Path, Path, Path]) -> None:
    ca, cert, key = local_ca
    with serve_in_background(make_state(), certfile=cert, keyfile=key) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        with UconDBClient(server.base_url, "run_records", ca_bundle=ca) as trusted:
            assert trusted.version() == "3.9.7"
        with (
            UconDBClient(server.base_url, "run_records") as untrusted,
            pytest.raises(UconDBError) as error,
        ):
            untrusted.version()

    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert (error.value.reason, error.value.retryable) == ("unreachable", True)
