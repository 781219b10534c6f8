"""Configuration loading: the legacy template, every expansion form, types and bad configs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, load_settings
from app.config_expand import ExpansionError, expand_config, expand_env

MINIMAL = """
source_files:
  run_records_dir: /daq/run_records
artdaq_db:
  database_uri: filesystemdb:///db/x_archive
  fcl_conf_dir: /conf
ucon_db:
  server_url: https://h/app
  folder_name: f
  object_name: configuration
  writer_user: u
  writer_password: secret-pw
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


TEMPLATE_ENV = {
    "WORK_DIR": "/data/rra",
    "RUN_RECORDS_DIR": "/daq/run_records",
    "ARTDAQDB_URL": "filesystemdb:///daq/database/filesystemdb/sbnd_db_archive",
    "UCONDB_URL": "https://ucon.example:9443/sbnd_on_ucon_prod/app",
    "UCONDB_USER": "writer",
    "UCONDB_PASSWORD": "s3cret",
    "NOTIFY_EMAIL_LIST": "ops@example.org",
    "EXPERIMENT_NAME": "sbnd",
}


def test_legacy_template_loads_with_its_environment(testdata: Path, monkeypatch) -> None:
    for key, value in TEMPLATE_ENV.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(testdata / "run_record_archiver" / "config.yaml.template")
    assert settings.app.work_dir == Path("/data/rra")
    assert settings.app.import_state_file == Path("/data/rra/importer_state.json")
    assert settings.app.lock_file == Path("/data/rra/.archiver.lock")
    assert settings.app.log_file == Path("/data/rra/archiver.log")
    assert (settings.app.batch_size, settings.app.parallel_workers) == (5, 2)
    assert (settings.app.run_process_retries, settings.app.retry_delay_seconds) == (2, 3)
    assert settings.source_files.run_records_dir == Path("/daq/run_records")
    assert settings.artdaq_db.database_uri == TEMPLATE_ENV["ARTDAQDB_URL"]
    assert settings.artdaq_db.use_tools is True
    assert settings.artdaq_db.remote_host is None
    assert settings.ucon_db.server_url == TEMPLATE_ENV["UCONDB_URL"]
    assert (settings.ucon_db.folder_name, settings.ucon_db.object_name) == (
        "test01",
        "configuration",
    )
    assert settings.ucon_db.writer_password == "s3cret"
    assert settings.ucon_db.timeout_seconds == 10
    assert settings.reporting.email.recipient_email == "ops@example.org"
    assert settings.reporting.email.enabled is False
    assert settings.reporting.slack.channel == "#run-archiver-alerts"
    assert settings.carbon.metric_prefix == "sbnd.run_archiver.dev"
    assert settings.carbon.port == 2003
    assert settings.fhiclize_generate[0] == "boot"
    assert settings.pipeline.max_attempts == 3
    assert settings.database.url == "sqlite:////data/rra/rra.sqlite3"


def test_template_defaults_without_environment(testdata: Path, monkeypatch) -> None:
    for key in TEMPLATE_ENV:
        monkeypatch.delenv(key, raising=False)
    settings = load_settings(testdata / "run_record_archiver" / "config.yaml.template")
    assert settings.app.log_file == Path("/tmp/run_record_archiver/archiver.log")
    assert settings.source_files.run_records_dir == Path("/daq/run_records")
    assert settings.reporting.email.recipient_email == "user@example.com"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A}", {}, ""),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, ""),  # set to empty counts as set, unlike the shell
        ("${A:-${B:-inner}}/x", {}, "inner/x"),
        ("${A:-${B}}", {"B": "b"}, "b"),
        ("${A}", {"A": "${B}", "B": "bee"}, "bee"),  # values are re-scanned
        ("pre-${A}-post", {"A": "mid"}, "pre-mid-post"),
        ("${lower}", {"lower": "no"}, "${lower}"),  # lower case is left for pass 2
        ("${A", {"A": "x"}, "${A"),  # unmatched brace stays
        ("${A:-a:-b}", {}, "a:-b"),  # split at the first :-
    ],
)
def test_environment_pass(text: str, env: dict[str, str], expected: str) -> None:
    assert expand_env(text, env) == expected


def test_parameter_pass_same_section_cross_section_and_defaults() -> None:
    raw = {
        "app": {
            "work_dir": "${WORK_DIR:-/tmp/rra}",
            "log_file": "${work_dir}/archiver.log",
            "n": 5,
            "flag": True,
            "nothing": None,
            "show": "${n} ${flag} ${nothing}",
            "missing": "${nope}",
            "fallback": "${nope:-dflt}",
            "nested": {"deep": ["${work_dir}/a", {"x": "${source.dir}"}]},
        },
        "source": {"dir": "${app.work_dir}/records"},
        "top": "${app.work_dir}",
    }
    out = expand_config(raw, {})
    assert out["app"]["log_file"] == "/tmp/rra/archiver.log"
    assert out["app"]["show"] == "5 True None"
    assert out["app"]["missing"] == "${nope}"
    assert out["app"]["fallback"] == "dflt"
    assert out["app"]["nested"]["deep"] == ["/tmp/rra/a", {"x": "/tmp/rra/records"}]
    assert out["source"]["dir"] == "/tmp/rra/records"
    assert out["top"] == "${app.work_dir}"  # top-level scalars are not expanded in pass 2
    with_env = expand_config(raw, {"WORK_DIR": "/data/rra"})
    assert with_env["app"]["log_file"] == "/data/rra/archiver.log"


def test_section_reference_renders_the_whole_mapping() -> None:
    out = expand_config({"a": {"m": {"k": 1}, "s": "${m}"}}, {})
    assert out["a"]["s"] == "{'k': 1}"


@pytest.mark.parametrize(
    "raw",
    [
        {"app": {"work_dir": "${work_dir}/x"}},
        {"app": {"a": "${b}", "b": "${a}"}},
        {"app": {"a": "${other.b}"}, "other": {"b": "${app.a}"}},
    ],
)
def test_reference_cycle_is_an_error(raw: dict) -> None:
    with pytest.raises(ExpansionError, match="Circular reference detected: "):
        expand_config(raw, {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("false", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("", False),
        (" FALSE ", False),
        ("true", True),
        ("1", True),
        ("Yes", True),
        ("on", True),
        (True, True),
        (False, False),
    ],
)
def test_booleans(tmp_path: Path, value: object, expected: bool) -> None:
    literal = f'"{value}"' if isinstance(value, str) else str(value).lower()
    text = MINIMAL.replace(
        "  fcl_conf_dir: /conf", f"  fcl_conf_dir: /conf\n  use_tools: {literal}"
    )
    assert load_settings(write(tmp_path, text)).artdaq_db.use_tools is expected


def test_boolean_from_environment_default_is_really_false(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("USE_TOOLS", raising=False)
    text = MINIMAL.replace(
        "  fcl_conf_dir: /conf", '  fcl_conf_dir: /conf\n  use_tools: "${USE_TOOLS:-false}"'
    )
    assert load_settings(write(tmp_path, text)).artdaq_db.use_tools is False


def test_integers_accept_decimal_strings(tmp_path: Path) -> None:
    text = MINIMAL + 'app:\n  batch_size: "7"\n'
    assert load_settings(write(tmp_path, text)).app.batch_size == 7


def test_environment_overrides_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RRA_SERVICE__PORT", "9100")
    monkeypatch.setenv("RRA_UCON_DB__FOLDER_NAME", "other")
    monkeypatch.setenv("RRA_DATABASE__URL", "postgresql+psycopg://u:pw@db/x")
    settings = load_settings(write(tmp_path, MINIMAL + "service:\n  port: 8000\n"))
    assert settings.service.port == 9100
    assert settings.ucon_db.folder_name == "other"
    assert settings.ucon_db.writer_user == "u"  # the rest of the section still comes from the file
    assert settings.database.url == "postgresql+psycopg://u:pw@db/x"


def test_deprecated_flat_email_form(tmp_path: Path, caplog) -> None:
    text = MINIMAL + (
        "reporting:\n  send_email_on_error: true\n  recipient_email: a@b\n"
        "  sender_email: c@d\n  smtp_host: mail\n"
    )
    settings = load_settings(write(tmp_path, text))
    email = settings.reporting.email
    assert (email.enabled, email.smtp_port, email.smtp_use_tls) == (True, 587, True)
    assert email.recipient_email == "a@b"
    assert "DEPRECATED" in caplog.text


def test_unknown_legacy_key_is_a_warning(tmp_path: Path, caplog) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + "app:\n  frobnicate: 1\n"))
    assert settings.app.batch_size == 5
    assert "unknown key app.frobnicate" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL.replace("  writer_password: secret-pw\n", ""),
            "ucon_db.writer_password: required key is missing",
        ),
        (MINIMAL + "app:\n  batch_size: many\n", "app.batch_size: expected an integer, got 'many'"),
        (
            MINIMAL.replace("  fcl_conf_dir: /conf", "  fcl_conf_dir: /conf\n  use_tools: maybe"),
            "artdaq_db.use_tools: expected a boolean",
        ),
        (
            MINIMAL + "app:\n  work_dir: ${work_dir}/x\n",
            "Circular reference detected: app.work_dir",
        ),
        ("source_files: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "the top level must be a mapping"),
        (MINIMAL + "service:\n  prot: 1\n", "service.prot: unknown key"),
        (
            MINIMAL + "reporting:\n  email:\n    enabled: true\n    recipient_email: ''\n",
            "recipient_email is required when email is enabled",
        ),
        (
            MINIMAL.replace("source_files:\n  run_records_dir: /daq/run_records\n", ""),
            "source_files: required key is missing",
        ),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_settings(tmp_path / "absent.yaml")


def test_cli_bad_config_exits_1_with_one_message(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "app:\n  batch_size: many\n")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade", "--config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "RRA_CONFIG": ""},
        check=False,
    )
    assert result.returncode == 1
    assert f"{path}: app.batch_size: expected an integer" in result.stderr
    assert "Traceback" not in result.stderr
    assert "secret-pw" not in result.stderr + result.stdout


def test_example_config_documents_every_key(tmp_path: Path, monkeypatch) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    monkeypatch.setenv("RRA_EXAMPLE_ROOT", str(tmp_path))
    settings = load_settings(example)
    text = example.read_text()
    for section_name in type(settings).model_fields:
        section = getattr(settings, section_name)
        assert f"{section_name}:" in text, section_name
        for key in getattr(type(section), "model_fields", {}):
            assert f"{key}:" in text, f"{section_name}.{key} is not documented"
