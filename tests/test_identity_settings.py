"""Customer tokens and typed settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from store.identity import ANONYMOUS, InvalidToken, identity_from_metadata, sign_token, verify_token
from store.settings import Settings, load_settings

SECRET = "a-test-secret-that-is-long-enough-32"


def test_token_round_trip():
    assert verify_token(sign_token("C00001", SECRET, 60), SECRET) == "C00001"


@pytest.mark.parametrize(
    "metadata",
    [None, [], 42, "token", {}, {"token": None}, {"token": 5}, {"token": ""}, {"token": "x" * 5000},
     {"token": "not.a.jwt"}],
)
def test_malformed_metadata_is_anonymous(metadata):
    assert identity_from_metadata(metadata, SECRET) == ANONYMOUS


def test_forged_expired_and_unsigned_tokens_are_rejected():
    import jwt

    with pytest.raises(InvalidToken):
        verify_token(sign_token("C00001", "another-secret-another-secret-123", 60), SECRET)
    with pytest.raises(InvalidToken):
        verify_token(sign_token("C00001", SECRET, 60, now=1_000_000), SECRET)
    unsigned = jwt.encode({"sub": "C00001", "exp": 9_999_999_999, "iss": "shop"}, None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify_token(unsigned, SECRET)
    assert identity_from_metadata({"token": unsigned}, SECRET).anonymous


def test_settings_reject_unknown_keys_and_bad_values(clean_env):
    monkeypatch = clean_env
    with pytest.raises(ValidationError):
        Settings(not_a_setting=1)
    with pytest.raises(ValidationError):
        load_settings(database_url="mysql://x")
    monkeypatch.setenv("SHOP_RETURN_WINDOW_DAYS", "-1")
    with pytest.raises(ValidationError):
        load_settings()


@pytest.fixture
def clean_env(monkeypatch):
    """No SHOP_* variable from the calling shell may decide these tests."""
    import os

    for name in [n for n in os.environ if n.startswith("SHOP_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_environment_overrides_file(clean_env, tmp_path):
    monkeypatch = clean_env
    config = tmp_path / "shop.toml"
    config.write_text("rasa_port = 6000\naction_port = 6001\n")
    monkeypatch.setenv("SHOP_CONFIG", str(config))
    monkeypatch.setenv("SHOP_ACTION_PORT", "7001")
    settings = load_settings()
    assert (settings.rasa_port, settings.action_port) == (6000, 7001)


def test_unknown_key_in_file_is_an_error(clean_env, tmp_path):
    monkeypatch = clean_env
    config = tmp_path / "shop.toml"
    config.write_text("rasa_prot = 6000\n")
    monkeypatch.setenv("SHOP_CONFIG", str(config))
    with pytest.raises(ValidationError):
        load_settings()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", ""])
def test_a_wildcard_bind_host_needs_a_public_url(clean_env, tmp_path, host):
    monkeypatch = clean_env
    with pytest.raises(ValidationError, match="set public_url when bind_host is a wildcard address"):
        load_settings(bind_host=host)
    config = tmp_path / "shop.toml"
    config.write_text(f'bind_host = "{host}"\npublic_url = ""\n')
    monkeypatch.setenv("SHOP_CONFIG", str(config))
    with pytest.raises(ValidationError, match="public_url"):
        load_settings()
    monkeypatch.setenv("SHOP_PUBLIC_URL", "https://shop.example.com/assist")
    settings = load_settings()
    assert (settings.bind_host, settings.store_api_public_url) == (host, "https://shop.example.com/assist")


@pytest.mark.parametrize(("host", "in_url"), [("127.0.0.1", "127.0.0.1"), ("10.0.0.5", "10.0.0.5"),
                                              ("::1", "[::1]"), ("shop-assist.internal", "shop-assist.internal")])
def test_a_specific_bind_host_without_public_url_links_to_itself(clean_env, host, in_url):
    settings = load_settings(bind_host=host)
    assert settings.store_api_public_url == f"http://{in_url}:{settings.store_api_port}"
    assert settings.model_server_url == f"http://{in_url}:{settings.model_port}"
