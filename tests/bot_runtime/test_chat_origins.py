"""CONCIERGE_CHAT_ORIGINS: exact origins only, required outside development, and the only source of Rasa's CORS."""

from __future__ import annotations

import pytest
from rasa.core import run as rasa_run

from bot_runtime import chat_origins


def test_a_list_of_exact_origins_is_read() -> None:
    env = {"CONCIERGE_CHAT_ORIGINS": " https://shop.example.com, http://127.0.0.1:8000/ ,https://[::1]:8443",
           "CONCIERGE_ENV": "production"}
    assert chat_origins.chat_origins(env) == ["https://shop.example.com", "http://127.0.0.1:8000", "https://[::1]:8443"]


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "shop.example.com", "https://shop.example.com/chat",
                                   "ftp://shop.example.com", "https://shop.example.com?x=1"])
def test_anything_but_an_origin_is_refused(value: str) -> None:
    with pytest.raises(SystemExit, match="is not an origin"):
        chat_origins.chat_origins({"CONCIERGE_CHAT_ORIGINS": value, "CONCIERGE_ENV": "development"})


def test_production_needs_the_setting_development_allows_no_foreign_page() -> None:
    with pytest.raises(SystemExit, match="set CONCIERGE_CHAT_ORIGINS"):
        chat_origins.chat_origins({})
    assert chat_origins.chat_origins({"CONCIERGE_ENV": "development"}) == []


def test_rasas_cors_flag_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The origins reach Rasa's CORS from the setting only (tests/e2e/test_socketio_channel.py checks the headers)."""
    monkeypatch.setenv("CONCIERGE_CHAT_ORIGINS", "https://shop.example.com")
    chat_origins.install()
    with pytest.raises(SystemExit, match="leave out --cors"):
        rasa_run.configure_app([], ["*"])
    with pytest.raises(SystemExit, match="leave out --cors"):
        rasa_run.configure_app(input_channels=[], cors="https://shop.example.com")
