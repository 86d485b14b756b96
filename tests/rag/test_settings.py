"""Settings resolve file < RAG_* environment < overrides, and bad input names its source."""

from pathlib import Path

import pytest

from indexers.registry import check_settings
from rag.errors import ConfigError
from rag.settings import load_settings


def test_precedence_file_then_env_then_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "memrag.toml"
    config.write_text("[chunking]\nchunk_size = 300\nchunk_overlap = 10\n[retrieval]\ntop_k = 3\n")
    monkeypatch.setenv("RAG_CHUNKING__CHUNK_SIZE", "400")
    settings = load_settings(config, {"retrieval": {"top_k": 9}})
    assert settings.chunking.chunk_size == 400  # env beats file
    assert settings.chunking.chunk_overlap == 10  # file beats default
    assert settings.retrieval.top_k == 9  # override beats file


def test_yaml_config_is_read(tmp_path: Path) -> None:
    config = tmp_path / "memrag.yaml"
    config.write_text("llm:\n  provider: openai\n  model: qwen\n")
    assert load_settings(config).llm.model == "qwen"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", "[chunking\nchunk_size = 1", "not valid TOML"),
        ("bad.yaml", "llm: [unclosed", "not valid YAML"),
        ("list.yaml", "- 1\n- 2\n", "expected a mapping"),
        ("typo.toml", "[chunking]\nchunk_sise = 3\n", "chunking.chunk_sise"),
        ("value.toml", "[vector]\nkind = 'annoy'\n", "vector.kind"),
        ("conf.ini", "[x]", "must be .toml"),
    ],
)
def test_malformed_config_names_file_and_problem(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    config = tmp_path / name
    config.write_text(content)
    with pytest.raises(ConfigError, match=message) as err:
        # Index kinds' sections ([vector], [graph]) are validated by the registry.
        check_settings(load_settings(config))
    assert name in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_bad_environment_value_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__TOP_K", "many")
    with pytest.raises(ConfigError, match=r"retrieval\.top_k"):
        load_settings()
