"""Process settings from the environment (`JFC_*`, `DATABASE_URL`, `TEMPORAL_ADDRESS`)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import SettingsError
from schemas.contracts import TASK_QUEUE

PACKAGED_DATA = Path(__file__).parent


class Settings(BaseSettings):
    """Everything a JFC process can be told; every field has an embedded default."""

    model_config = SettingsConfigDict(env_prefix="JFC_", extra="ignore", populate_by_name=True)

    state_dir: Path = Field(default=Path(".jfc"), description="Temporal SQLite, dev secrets, documents, simulator state")
    temporal_address: str = Field(
        default="localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS", "JFC_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = TASK_QUEUE
    max_cached_workflows: int = Field(
        default=400, ge=0, description="Workflows a worker keeps in memory between tasks (its memory bound; the rest "
        "replay from history when they next wake)")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=1, le=65535)
    cookie_secure: bool = Field(default=True, description="Web session cookies are Secure (false: the local stack over http)")
    worker_metrics_host: str = Field(default="127.0.0.1", description="The worker's /metrics address (0.0.0.0: a pod)")
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535, description="The worker's /metrics port; 0: none")
    public_base_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("JFC_PUBLIC_BASE_URL"), description="Public URL of the API"
    )
    simulator_host: str = "127.0.0.1"
    simulator_port: int = Field(default=8090, ge=1, le=65535)
    simulator_url_override: str | None = Field(default=None, validation_alias=AliasChoices("JFC_SIMULATOR_URL"))
    agencies_file: Path = PACKAGED_DATA / "agencies.toml"
    rules_file: Path = PACKAGED_DATA / "rules.toml"
    incentives_file: Path = PACKAGED_DATA / "incentives.toml"
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "JFC_DATABASE_URL"))
    log_format: Literal["auto", "json", "console"] = "auto"
    allow_loopback_webhooks: bool = Field(
        default=False, description="Applicant webhooks may go to loopback hosts (plain http too): local stack, tests"
    )
    log_level: str = "INFO"
    env: Literal["local", "production"] = Field(
        default="local", description="`production` refuses to start without every secret and codec key (JFC_ENV)"
    )
    codec_keys: SecretStr | None = Field(
        default=None, description="Payload encryption keys `id:base64key,...`; the first encrypts (JFC_CODEC_KEYS)"
    )
    codec_cors_origins_override: str | None = Field(
        default=None, validation_alias=AliasChoices("JFC_CODEC_CORS_ORIGINS"),
        description="Comma-separated origins (the Temporal UI's) allowed to call /codec from a browser",
    )

    @property
    def public_base_url(self) -> str:
        return (self.public_base_url_override or f"http://localhost:{self.api_port}").rstrip("/")

    @property
    def codec_cors_origins(self) -> list[str]:
        """Browser origins allowed to call the codec endpoint: the local Temporal UI unless configured."""
        configured = self.codec_cors_origins_override or f"http://localhost:{self.temporal_ui_port}"
        return [origin.strip().rstrip("/") for origin in configured.split(",") if origin.strip()]

    @property
    def simulator_url(self) -> str:
        return (self.simulator_url_override or f"http://localhost:{self.simulator_port}").rstrip("/")

    @cached_property
    def documents_dir(self) -> Path:
        path = self.state_dir / "documents"
        path.mkdir(parents=True, exist_ok=True)
        return path


def load_settings() -> Settings:
    """The settings from the environment; a value that cannot be used is a SettingsError naming each variable,
    what it holds (never for a secret or the database URL) and what is wrong."""
    try:
        return Settings()
    except ValidationError as err:
        problems = [_problem(error) for error in err.errors(include_url=False)]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


def _problem(error: dict) -> str:
    """`VARIABLE='value': what is wrong` for one validation error (the loc is a field's name, or the alias read)."""
    name = str(error["loc"][0]) if error["loc"] else ""
    field = Settings.model_fields.get(name)
    if field is None:
        variable = name  # an alias: already the variable's name
    elif isinstance(field.validation_alias, AliasChoices):
        variable = str(field.validation_alias.choices[0])
    else:
        variable = f"JFC_{name.upper()}"
    hidden = field is None or field.annotation in (SecretStr, SecretStr | None) or name == "database_url"
    holds = "" if hidden else f"={error['input']!r}"
    return f"{variable}{holds}: {error['msg']}"
