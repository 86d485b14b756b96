"""Settings resolve file < RAG_* environment < overrides, and bad input names its source."""

from pathlib import Path

import pytest

from indexers.registry import check_settings
from rag.errors import ConfigError
from rag.settings import check_cache_dir, load_settings


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


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_concurrency", 0, "llm.max_concurrency: Input should be greater than or equal to 1"),
        ("timeout_s", -1, "llm.timeout_s: Input should be greater than 0"),
        ("timeout_s", 0, "llm.timeout_s: Input should be greater than 0"),
    ],
)
def test_llm_limits_must_be_usable(key: str, value: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, {"llm": {key: value}})


def test_a_malformed_json_section_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM", "{bad")
    with pytest.raises(ConfigError, match=r"^RAG_LLM: not valid JSON") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_cache_dir_must_be_a_usable_folder(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    for path, problem in ((afile, "is a file"), (Path("/dev/null/sub"), "cannot create")):
        settings = load_settings(None, {"cache_dir": str(path)})
        with pytest.raises(ConfigError, match=f"cache_dir {path}.*{problem}"):
            check_cache_dir(settings)
    fresh = tmp_path / "new" / "cache"
    assert check_cache_dir(load_settings(None, {"cache_dir": str(fresh)})) == fresh
    assert fresh.is_dir()
