"""Typed settings for every Python 3.11 process of the product.

Read once at the edge of a process (``load_settings()``) and passed in.
Sources, later ones winning: the defaults below, the TOML file named by
``SHOP_CONFIG`` (default ``shop.toml`` at the repository root, every key
documented there), then environment variables ``SHOP_<KEY>`` (upper case).
Unknown keys are an error, so a typo never silently becomes a default.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO_ROOT / "shop.toml"


class Settings(BaseSettings):
    """All settings of the store, the bot's actions and the recommender."""

    model_config = SettingsConfigDict(
        env_prefix="SHOP_", extra="forbid", frozen=True, validate_default=True
    )

    # --- data ---
    database_url: str = Field(
        default=f"sqlite:///{REPO_ROOT / 'var' / 'shop.db'}",
        description="SQLAlchemy URL of the store database (SQLite file or PostgreSQL).",
    )
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Runtime files: models, logs, pids.")

    # --- identity ---
    token_secret: SecretStr = Field(
        default=SecretStr("dev-only-secret-change-me-please-32b"),
        description="Shared secret the store signs customer tokens with (HS256).",
    )
    token_ttl_s: int = Field(default=3600, ge=60, description="Lifetime of a customer token in seconds.")
    action_token: SecretStr = Field(
        default=SecretStr("dev-only-action-token"),
        description="Header value Rasa must send to the action server.",
    )

    # --- processes ---
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    action_port: int = Field(default=5055, ge=1, le=65535)
    model_port: int = Field(default=8088, ge=1, le=65535)
    bind_host: str = Field(default="127.0.0.1", description="Interface every server listens on.")

    # --- store policy ---
    return_window_days: int = Field(default=30, ge=0, description="Days after delivery a line may be returned.")
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    handoff_hours_en: str = Field(default="9:00-21:00 every day")
    handoff_hours_zh: str = Field(default="每天 9:00-21:00")

    # --- recommendations ---
    recommend_timeout_s: float = Field(default=1.5, gt=0, le=30, description="Bound on one call to the model server.")
    attribution_window_days: int = Field(default=7, ge=0, description="Orders this soon after a shown item are attributed to it.")
    model_server_token: SecretStr = Field(default=SecretStr("dev-only-model-token"))
    model_dir: Path = Field(
        default=REPO_ROOT / "var" / "models" / "gpt-small",
        description="Folder written by recommender.train that the model server loads.",
    )
    model_adapter: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]+$", description="Adapter served at start.")
    product_url: str = Field(
        default="https://shop.example.com/products/{sku}",
        description="Link of a product page; {sku} is replaced by the product's SKU.",
    )
    make_good_limit: int = Field(default=1, ge=0, description="Make-good coupons one customer may get per period.")
    make_good_period_days: int = Field(default=90, ge=1, description="The period make_good_limit counts over.")

    # --- store API (orders from the shop's backend) ---
    store_api_port: int = Field(default=8090, ge=1, le=65535)
    store_api_token: SecretStr = Field(
        default=SecretStr("dev-only-store-api-token"),
        description="Bearer token the shop's backend sends to the store API.",
    )
    click_dedup_seconds: int = Field(
        default=600, ge=0,
        description="A click on the same recommended item in the same conversation this soon after the last "
        "recorded one is redirected but not recorded again; 0 records every click.",
    )
    public_url: str = Field(
        default="",
        description="Base URL customers' browsers reach the store API at (click links in product cards); "
        "empty: http://bind_host:store_api_port (refused when bind_host is a wildcard address).",
    )

    # --- chat input ---
    max_message_chars: int = Field(default=2000, ge=10, description="Longer chat messages are cut before use.")

    @property
    def model_server_url(self) -> str:
        """Base URL of the model server as the actions reach it."""
        return f"http://{url_host(self.bind_host)}:{self.model_port}"

    @property
    def store_api_public_url(self) -> str:
        """Base URL of the store API as customers' browsers reach it, without a trailing slash."""
        return self.public_url or f"http://{url_host(self.bind_host)}:{self.store_api_port}"

    @field_validator("product_url")
    @classmethod
    def _has_sku(cls, value: str) -> str:
        if "{sku}" not in value:
            raise ValueError("product_url must contain {sku}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_base(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError(f"public_url must be an http:// or https:// URL with a host, got {value!r}")
        if "?" in value or "#" in value:
            raise ValueError(f"public_url must not have a query or fragment (click links add their own), got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _reachable_click_links(self) -> Settings:
        # A wildcard is where servers listen, not an address a browser can open: links to it lead nowhere.
        if not self.public_url and is_wildcard(self.bind_host):
            raise ValueError(f"set public_url when bind_host is a wildcard address (bind_host is {self.bind_host!r}; "
                             "click links in product cards would point at it)")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be a sqlite:// or postgresql:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("SHOP_CONFIG", DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means "every interface" to a server (``0.0.0.0``, ``::``, ``[::]`` or empty)."""
    if not host:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it goes in a URL: IPv6 literals in brackets (``[::1]``), anything else as it is."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def load_settings(**overrides: Any) -> Settings:
    """Build the process's settings; keyword overrides win over every source."""
    return Settings(**overrides)
