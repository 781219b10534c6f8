"""Settings: the legacy `config.yaml` loaded unchanged, plus the service's own sections.

Legacy sections keep their keys and defaults (spec/legacy.md §2.1); new settings live in new
top-level sections. `RRA_<SECTION>__<KEY>` environment variables override either.
"""

import logging
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from app.config_expand import ExpansionError, expand_config

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.yaml"
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}
_INT = re.compile(r"[+-]?[0-9]+")


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the key."""


def _to_bool(value: Any) -> Any:
    """Accept YAML booleans and the usual words; the legacy `bool("false")` was true."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"expected a boolean (true/false, yes/no, on/off, 1/0), got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _to_int(value: Any) -> Any:
    """Accept YAML integers and decimal strings, nothing else (no floats, no booleans)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, str):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


Bool = Annotated[bool, BeforeValidator(_to_bool)]
Int = Annotated[int, BeforeValidator(_to_int)]
PositiveInt = Annotated[int, BeforeValidator(_to_int), Field(ge=1)]
NonNegativeInt = Annotated[int, BeforeValidator(_to_int), Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]


class _Legacy(BaseModel):
    """A section the legacy tool defined: unknown keys are warnings, never errors."""

    model_config = ConfigDict(extra="allow")


class _New(BaseModel):
    """A section of this project: unknown keys are errors (typos should not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class AppSection(_Legacy):
    work_dir: Path = Path("/tmp/run_record_archiver")  # noqa: S108 - the legacy default
    import_state_file: Path | None = None
    import_failure_log: Path | None = None
    migrate_state_file: Path | None = None
    migrate_failure_log: Path | None = None
    lock_file: Path | None = None
    batch_size: PositiveInt = 5
    parallel_workers: PositiveInt = 2
    run_process_retries: NonNegativeInt = 2
    retry_delay_seconds: NonNegativeInt = 3
    log_level: str = "INFO"
    log_file: Path | None = None

    @model_validator(mode="after")
    def _derive(self) -> "AppSection":
        defaults = {
            "import_state_file": "importer_state.json",
            "import_failure_log": "import_failures.log",
            "migrate_state_file": "migrator_state.json",
            "migrate_failure_log": "migrate_failures.log",
            "lock_file": ".archiver.lock",
        }
        for key, name in defaults.items():
            if getattr(self, key) is None:
                setattr(self, key, self.work_dir / name)
        level = str(self.log_level).upper()
        if level not in logging.getLevelNamesMapping():
            log.warning("app.log_level %r is not a log level; using INFO", self.log_level)
            level = "INFO"
        self.log_level = level
        return self


class AppFuzzSection(_Legacy):
    random_skip_percent: Int = 0
    random_skip_retry: Bool = False
    random_error_percent: Int = 0
    random_error_retry: Bool = False


class SourceFilesSection(_Legacy):
    run_records_dir: Path


class ArtdaqDbSection(_Legacy):
    database_uri: str
    fcl_conf_dir: Path
    use_tools: Bool = False
    remote_host: str | None = None
    tools_timeout_seconds: Seconds = 300.0
    ssh_strict_host_key_checking: Bool = True

    @model_validator(mode="after")
    def _remote_from_env(self) -> "ArtdaqDbSection":
        if self.remote_host is None:
            self.remote_host = os.environ.get("ARTDAQ_DATABASE_REMOTEHOST") or None
        return self


class UconDbSection(_Legacy):
    server_url: str
    folder_name: str
    object_name: str
    writer_user: str
    writer_password: str = Field(repr=False)
    timeout_seconds: Seconds = 10.0
    connect_timeout_seconds: Seconds = 5.0
    ca_bundle: Path | None = None
    validate_package_key: str = "sbndaq"


class EmailSection(_Legacy):
    enabled: Bool = False
    recipient_email: str | None = None
    sender_email: str | None = None
    smtp_host: str | None = None
    smtp_port: PositiveInt = 25
    smtp_use_tls: Bool = False
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _required_when_enabled(self) -> "EmailSection":
        fallbacks = {
            "recipient_email": "user@example.com",
            "sender_email": "archiver@example.com",
            "smtp_host": "smtp.example.com",
        }
        for key, fallback in fallbacks.items():
            if not getattr(self, key):
                if self.enabled:
                    raise ValueError(f"{key} is required when email is enabled")
                setattr(self, key, fallback)
        return self


class SlackSection(_Legacy):
    enabled: Bool = False
    bot_token: str | None = Field(default=None, repr=False)
    channel: str | None = None
    mention_users: str | None = None
    base_url: str | None = None

    @model_validator(mode="after")
    def _required_when_enabled(self) -> "SlackSection":
        if self.enabled and not (self.bot_token and self.channel):
            raise ValueError("bot_token and channel are required when slack is enabled")
        return self


_FLAT_EMAIL_KEYS = (
    "recipient_email",
    "sender_email",
    "smtp_host",
    "smtp_port",
    "smtp_use_tls",
    "smtp_user",
    "smtp_password",
)


class ReportingSection(_Legacy):
    email: EmailSection = Field(default_factory=EmailSection)
    slack: SlackSection = Field(default_factory=SlackSection)
    stuck_stage_minutes: PositiveInt = 60

    @model_validator(mode="before")
    @classmethod
    def _deprecated_flat_form(cls, data: Any) -> Any:
        """The legacy flat e-mail keys apply only when `reporting.email` is absent or empty."""
        if not isinstance(data, dict) or "send_email_on_error" not in data or data.get("email"):
            return data
        log.warning(
            "DEPRECATED: reporting.send_email_on_error and flat e-mail keys; "
            "use reporting.email instead"
        )
        email: dict[str, Any] = {
            "enabled": data["send_email_on_error"],
            "smtp_port": 587,
            "smtp_use_tls": True,
        }
        email.update({k: data[k] for k in _FLAT_EMAIL_KEYS if k in data})
        rest = {
            k: v
            for k, v in data.items()
            if k not in _FLAT_EMAIL_KEYS and k != "send_email_on_error"
        }
        return {**rest, "email": email}


class CarbonSection(_Legacy):
    enabled: Bool = False
    host: str | None = None
    port: PositiveInt = 2003
    metric_prefix: str | None = None

    @model_validator(mode="after")
    def _required_when_enabled(self) -> "CarbonSection":
        if self.enabled and not (self.host and self.metric_prefix):
            raise ValueError("host and metric_prefix are required when carbon is enabled")
        return self


class DatabaseSection(_New):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the ledger; default sqlite under app.work_dir",
    )
    busy_timeout_ms: PositiveInt = 30000


class ServiceSection(_New):
    host: str = "127.0.0.1"
    port: Annotated[int, BeforeValidator(_to_int), Field(ge=1, le=65535)] = 8080
    shutdown_grace_seconds: Seconds = 30.0
    log_format: Literal["legacy", "json"] = "legacy"
    log_max_bytes: PositiveInt = 500 * 1024 * 1024
    log_backup_count: PositiveInt = 5
    log_max_age_days: PositiveInt = 14


class ScannerSection(_New):
    settle_seconds: NonNegativeInt = 60
    max_run_duration_hours: PositiveInt = 48
    start_grace_minutes: PositiveInt = 60
    archive_never_stopped: Bool = False
    max_file_bytes: PositiveInt = 16 * 1024 * 1024
    max_run_bytes: PositiveInt = 64 * 1024 * 1024


class PipelineSection(_New):
    import_workers: PositiveInt | None = None
    import_in_processes: Bool = True
    conversion_cache_mb: Annotated[int, Field(ge=0)] = 32
    migrate_workers: PositiveInt | None = None
    ucondb_upload_concurrency: PositiveInt = 1
    claim_batch: PositiveInt = 4
    lease_seconds: PositiveInt = 600
    max_attempts: PositiveInt | None = None
    backoff_base_seconds: Annotated[float, Field(ge=0)] | None = None
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 3600.0
    backoff_jitter: Annotated[float, Field(ge=0, le=1)] = 0.2
    staging_dir: Path | None = None


class ScheduleSection(_New):
    pipeline_interval_seconds: PositiveInt = 60
    reconcile_interval_seconds: PositiveInt = 3600
    retry_sweep_interval_seconds: PositiveInt = 300
    daily_summary_cron: str = "0 6 * * *"


class AuthSection(_New):
    read_requires_token: Bool = False
    session_secret: str | None = Field(default=None, repr=False)


class Settings(BaseSettings):
    """Everything `rra` and the service read from `config.yaml` and `RRA_*` variables."""

    model_config = SettingsConfigDict(
        env_prefix="RRA_",
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    app: AppSection = Field(default_factory=AppSection)
    app_fuzz: AppFuzzSection = Field(default_factory=AppFuzzSection)
    source_files: SourceFilesSection
    artdaq_db: ArtdaqDbSection
    ucon_db: UconDbSection
    reporting: ReportingSection = Field(default_factory=ReportingSection)
    carbon: CarbonSection = Field(default_factory=CarbonSection)
    fhiclize_generate: Any = None
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    service: ServiceSection = Field(default_factory=ServiceSection)
    scanner: ScannerSection = Field(default_factory=ScannerSection)
    pipeline: PipelineSection = Field(default_factory=PipelineSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    auth: AuthSection = Field(default_factory=AuthSection)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the file's values (passed as init arguments)."""
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _derive(self) -> "Settings":
        pipeline = self.pipeline
        if pipeline.import_workers is None:
            pipeline.import_workers = self.app.parallel_workers
        if pipeline.migrate_workers is None:
            pipeline.migrate_workers = self.app.parallel_workers
        if pipeline.max_attempts is None:
            pipeline.max_attempts = self.app.run_process_retries + 1
        if pipeline.backoff_base_seconds is None:
            pipeline.backoff_base_seconds = float(self.app.retry_delay_seconds)
        if pipeline.staging_dir is None:
            pipeline.staging_dir = self.app.work_dir / "staging"
        if self.database.url is None:
            self.database.url = f"sqlite:///{self.app.work_dir / 'rra.sqlite3'}"
        return self

    def unknown_keys(self) -> list[str]:
        """Keys in legacy sections that nothing reads (reported as warnings)."""
        found: list[str] = []
        for name in type(self).model_fields:
            section = getattr(self, name)
            if isinstance(section, BaseModel):
                found += [f"{name}.{key}" for key in section.model_extra or {}]
                for sub_name in type(section).model_fields:
                    sub = getattr(section, sub_name)
                    if isinstance(sub, BaseModel):
                        found += [f"{name}.{sub_name}.{k}" for k in sub.model_extra or {}]
        return found


def _error_key(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def _describe(error: ValidationError, path: Path) -> str:
    lines = []
    for item in error.errors():
        key = _error_key(item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{path}: {key}: {message}")
    return "\n".join(lines)


def read_config_file(path: Path) -> dict[str, Any]:
    """Load and expand the YAML file; every failure is a ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    try:
        return expand_config(raw)
    except ExpansionError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_settings(path: Path | str | None = None) -> Settings:
    """Settings from `path` (default `$RRA_CONFIG` or ./config.yaml) and `RRA_*` overrides."""
    config_path = Path(path or os.environ.get("RRA_CONFIG") or DEFAULT_CONFIG)
    values = read_config_file(config_path)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from None
    except ValueError as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
    for key in settings.unknown_keys():
        log.warning("%s: unknown key %s is ignored", config_path, key)
    if settings.app_fuzz.random_skip_percent or settings.app_fuzz.random_error_percent:
        log.warning("%s: app_fuzz options are accepted but ignored", config_path)
    return settings
