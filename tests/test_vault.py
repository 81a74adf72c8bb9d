"""The pseudonym vault: round trips, refusal of invented tokens, scopes, persistence, encryption at rest,
realistic surrogates, and many threads at once."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxguard.errors import ConfigurationError
from ctxguard.policy.schema import Strategy
from ctxguard.redact.stores import MemoryVaultStore, SQLiteVaultStore, VaultStore, scope_id
from ctxguard.redact.strategies import Edit, apply
from ctxguard.redact.surrogates import SurrogateGenerator
from ctxguard.redact.vault import KEY_ENV, PseudonymVault

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "vault.sqlite3"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VaultStore]:
    s: VaultStore = MemoryVaultStore() if request.param == "memory" else SQLiteVaultStore(tmp_path / "v.sqlite3")
    yield s
    s.close()


def pseudonymize(vault: PseudonymVault, text: str, spans: list[tuple[str, str]]) -> str:
    edits = []
    for entity, value in spans:
        start = text.index(value)
        edits.append(Edit(start, start + len(value), entity, Strategy.PSEUDONYMIZE))
    return apply(text, edits, hash_key=KEY, vault=vault)


class Planned(SurrogateGenerator):
    """Hands out stand-ins in a fixed order, so a test can force collisions and overlaps."""

    def __init__(self, *plan: str) -> None:
        self._plan = list(plan)

    def generate(self, entity: str, seed: bytes, attempt: int) -> str | None:
        return self._plan.pop(0) if self._plan else None


# ---- round trips ----------------------------------------------------------------------------------

def test_pseudonymize_then_restore_round_trips_tokens(store: VaultStore) -> None:
    vault = PseudonymVault(store, tenant="acme", session="s1", key=KEY)
    text = "Mail alice@corp.com and call +1 415 555 2671 for Alice Smith."
    spans = [("EMAIL_ADDRESS", "alice@corp.com"), ("PHONE_NUMBER", "+1 415 555 2671"), ("PERSON", "Alice Smith")]
    masked = pseudonymize(vault, text, spans)
    assert masked == "Mail <EMAIL_ADDRESS_1> and call <PHONE_NUMBER_1> for <PERSON_1>."
    assert vault.restore(masked) == (text, 3, 0)


def test_same_value_same_token_and_counters_per_entity() -> None:
    vault = PseudonymVault()
    assert vault.token_for("PERSON", "Alice") == "<PERSON_1>"
    assert vault.token_for("PERSON", "Bob") == "<PERSON_2>"
    assert vault.token_for("PERSON", "Alice") == "<PERSON_1>"
    assert vault.token_for("LOCATION", "Alice") == "<LOCATION_1>"
    assert vault.value_for("<PERSON_2>") == "Bob"
    assert len(vault) == 3


def test_pseudonymize_then_restore_round_trips_surrogates(store: VaultStore) -> None:
    vault = PseudonymVault(store, tenant="acme", session="s1", key=KEY, surrogates=True)
    text = "Alice Smith (alice@corp.com, +1 415 555 2671) lives in Berlin; her IBAN is DE89370400440532013000."
    spans = [("PERSON", "Alice Smith"), ("EMAIL_ADDRESS", "alice@corp.com"), ("PHONE_NUMBER", "+1 415 555 2671"),
             ("LOCATION", "Berlin"), ("IBAN_CODE", "DE89370400440532013000")]
    masked = pseudonymize(vault, text, spans)
    for _, value in spans:
        assert value not in masked
    assert "<IBAN_CODE_1>" in masked  # kinds without a generator keep numbered tokens
    assert vault.restore(masked) == (text, 5, 0)


def test_surrogates_are_realistic_and_from_reserved_ranges() -> None:
    vault = PseudonymVault(surrogates=True)
    person = vault.token_for("PERSON", "Alice Smith")
    email = vault.token_for("EMAIL_ADDRESS", "alice@corp.com")
    phone = vault.token_for("PHONE_NUMBER", "+1 415 555 2671")
    ip = vault.token_for("IP_ADDRESS", "8.8.8.8")
    url = vault.token_for("URL", "https://intranet.corp.com/x")
    assert re.fullmatch(r"[A-Z][a-z]+( [A-Z]\.)? [A-Z][a-z]+", person)
    assert re.fullmatch(r"[a-z]+\.[a-z]+(\d\d)?@example\.(com|net|org)", email)
    assert re.fullmatch(r"[2-9][0-8]\d-555-01\d\d", phone)
    assert re.fullmatch(r"(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}", ip)
    assert url.startswith(("https://www.example.com/", "https://www.example.net/", "https://www.example.org/"))
    assert vault.token_for("PERSON", "Alice Smith") == person


def test_surrogates_are_stable_per_scope_and_key_and_differ_across_scopes(db: Path) -> None:
    names = [f"Person {i}" for i in range(20)]
    with SQLiteVaultStore(db) as store:
        a = [PseudonymVault(store, tenant="t", session="a", key=KEY, surrogates=True).token_for("PERSON", n)
             for n in names]
    with SQLiteVaultStore(db) as store:
        again = [PseudonymVault(store, tenant="t", session="a", key=KEY, surrogates=True).token_for("PERSON", n)
                 for n in names]
        b = [PseudonymVault(store, tenant="t", session="b", key=KEY, surrogates=True).token_for("PERSON", n)
             for n in names]
    assert a == again
    assert a != b


def test_restore_matches_surrogates_as_whole_words_longest_first() -> None:
    vault = PseudonymVault(surrogates=Planned("Dana Lee", "Dana Lee Jones", "Fairview"))
    assert vault.token_for("PERSON", "Real One") == "Dana Lee"
    assert vault.token_for("PERSON", "Real Two") == "Dana Lee Jones"
    assert vault.token_for("LOCATION", "Real Town") == "Fairview"
    text = "Dana Lee Jones met Dana Lee's aunt in Fairview. Not Dana Leeds, not Fairview-North, not fairview.org"
    out, restored, refused = vault.restore(text)
    assert out == ("Real Two met Real One's aunt in Real Town. Not Dana Leeds, not Fairview-North, not fairview.org")
    assert (restored, refused) == (3, 0)


def test_restore_keeps_offsets_right_around_non_ascii_text() -> None:
    vault = PseudonymVault(surrogates=Planned("Dana Lee"))
    assert vault.token_for("PERSON", "Zoë Ångström") == "Dana Lee"
    text = "Grüße an Dana Lee 👋, <PERSON_4> und Dana Lee."
    assert vault.restore(text) == ("Grüße an Zoë Ångström 👋, <PERSON_4> und Zoë Ångström.", 2, 1)


def test_restored_values_are_not_scanned_again() -> None:
    vault = PseudonymVault()
    first = vault.token_for("NOTE", "see <NOTE_2>")
    second = vault.token_for("NOTE", "secret two")
    assert vault.restore(f"{first}") == ("see <NOTE_2>", 1, 0)
    assert vault.restore(f"{first} {second}") == ("see <NOTE_2> secret two", 2, 0)


def test_surrogate_equal_to_a_real_value_seen_is_not_issued() -> None:
    vault = PseudonymVault(surrogates=Planned("Fake One", "Alice Smith", "Fake Two"))
    assert vault.token_for("PERSON", "Alice Smith") == "Fake One"
    # The second value's first stand-in is a real value of this scope: it would restore as Alice.
    assert vault.token_for("PERSON", "Bob Jones") == "Fake Two"
    assert vault.restore("Fake One and Fake Two") == ("Alice Smith and Bob Jones", 2, 0)


def test_surrogate_already_issued_for_another_value_is_not_reused() -> None:
    vault = PseudonymVault(surrogates=Planned("Fake One", "Fake One", "Fake Two"))
    assert vault.token_for("PERSON", "Alice Smith") == "Fake One"
    assert vault.token_for("PERSON", "Bob Jones") == "Fake Two"


def test_unusable_or_exhausted_surrogates_fall_back_to_tokens() -> None:
    vault = PseudonymVault(surrogates=Planned("(555) 0100", " padded ", "Zoë"))
    assert vault.token_for("PERSON", "Alice Smith") == "<PERSON_1>"
    assert vault.token_for("PERSON", "Bob Jones") == "<PERSON_2>"
    assert vault.restore("<PERSON_2>, <PERSON_1>") == ("Bob Jones, Alice Smith", 2, 0)


def test_many_distinct_values_all_get_distinct_surrogates() -> None:
    vault = PseudonymVault(surrogates=True)
    for entity in ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "LOCATION", "IP_ADDRESS"):
        tokens = {vault.token_for(entity, f"{entity} value {i}") for i in range(300)}
        assert len(tokens) == 300


# ---- refusal --------------------------------------------------------------------------------------

def test_invented_tokens_are_refused_counted_and_left_in_place(store: VaultStore) -> None:
    vault = PseudonymVault(store, key=KEY)
    tok = vault.token_for("EMAIL_ADDRESS", "alice@corp.com")
    text = f"send to {tok}, cc <EMAIL_ADDRESS_7> and <PERSON_1>"
    assert vault.restore(text) == ("send to alice@corp.com, cc <EMAIL_ADDRESS_7> and <PERSON_1>", 1, 2)
    assert vault.value_for("<EMAIL_ADDRESS_7>") is None
    assert len(vault) == 1


def test_two_scopes_over_one_store_never_see_each_others_tokens(store: VaultStore) -> None:
    a = PseudonymVault(store, tenant="acme", session="s1", key=KEY)
    b = PseudonymVault(store, tenant="acme", session="s2", key=KEY)
    other_tenant = PseudonymVault(store, tenant="globex", session="s1", key=KEY)
    assert a.token_for("PERSON", "Alice") == "<PERSON_1>"
    assert a.token_for("PERSON", "Bob") == "<PERSON_2>"
    assert b.token_for("PERSON", "Carol") == "<PERSON_1>"
    assert b.restore("<PERSON_1> <PERSON_2>") == ("Carol <PERSON_2>", 1, 1)
    assert a.restore("<PERSON_1> <PERSON_2>") == ("Alice Bob", 2, 0)
    assert other_tenant.restore("<PERSON_1>") == ("<PERSON_1>", 0, 1)
    assert (len(a), len(b), len(other_tenant)) == (2, 1, 0)


def test_scope_ids_cannot_be_confused_by_separators() -> None:
    assert scope_id("a", "b/c") != scope_id("a/b", "c")
    assert scope_id('a","b', "") != scope_id("a", '","b')


def test_ciphertext_copied_into_another_scope_is_refused(db: Path) -> None:
    with SQLiteVaultStore(db) as store:
        PseudonymVault(store, session="a", key=KEY).token_for("PERSON", "Alice")
        PseudonymVault(store, session="b", key=KEY).token_for("PERSON", "Carol")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE vault_entries SET ciphertext = (SELECT ciphertext FROM vault_entries WHERE scope = ?),"
            " digest = (SELECT digest FROM vault_entries WHERE scope = ?) WHERE scope = ?",
            (scope_id("", "a"), scope_id("", "a"), scope_id("", "b")),
        )
    with SQLiteVaultStore(db) as store:
        assert PseudonymVault(store, session="b", key=KEY).restore("<PERSON_1>") == ("<PERSON_1>", 0, 1)
        assert PseudonymVault(store, session="a", key=KEY).restore("<PERSON_1>") == ("Alice", 1, 0)


# ---- persistence and encryption at rest -----------------------------------------------------------

def test_sqlite_vault_survives_reopen_with_the_same_key(db: Path) -> None:
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, tenant="acme", session="s1", key=KEY)
        spans = [("PERSON", "Alice"), ("EMAIL_ADDRESS", "bob@corp.com")]
        masked = pseudonymize(vault, "Alice wrote to bob@corp.com", spans)
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, tenant="acme", session="s1", key=KEY)
        assert vault.restore(masked) == ("Alice wrote to bob@corp.com", 2, 0)
        assert vault.token_for("PERSON", "Alice") == "<PERSON_1>"
        assert vault.token_for("PERSON", "Zed") == "<PERSON_2>"  # counters persist too


def test_sqlite_vault_with_wrong_key_refuses_tokens_without_crashing(db: Path) -> None:
    with SQLiteVaultStore(db) as store:
        tok = PseudonymVault(store, key=KEY, surrogates=True).token_for("PERSON", "Alice")
        num = PseudonymVault(store, key=KEY).token_for("IBAN_CODE", "DE89370400440532013000")
    with SQLiteVaultStore(db) as store:
        wrong = PseudonymVault(store, key=OTHER_KEY)
        assert wrong.restore(f"{tok} {num}") == (f"{tok} {num}", 0, 2)
        assert wrong.value_for(num) is None
        # Issuing under the wrong key never hands out a token that already belongs to another value.
        assert wrong.token_for("IBAN_CODE", "DE89370400440532013000") == "<IBAN_CODE_2>"


def test_tampered_ciphertext_is_refused(db: Path) -> None:
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, key=KEY)
        vault.token_for("PERSON", "Alice")
        vault.token_for("PERSON", "Bob")
    with sqlite3.connect(db) as conn:
        (blob,) = conn.execute("SELECT ciphertext FROM vault_entries WHERE token = '<PERSON_1>'").fetchone()
        flipped = blob[:-1] + bytes([blob[-1] ^ 1])
        conn.execute("UPDATE vault_entries SET ciphertext = ? WHERE token = '<PERSON_1>'", (flipped,))
        conn.execute("UPDATE vault_entries SET ciphertext = ? WHERE token = '<PERSON_2>'", (b"short",))
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, key=KEY)
        assert vault.restore("<PERSON_1> <PERSON_2>") == ("<PERSON_1> <PERSON_2>", 0, 2)


def test_swapped_rows_do_not_resolve_to_the_other_value(db: Path) -> None:
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, key=KEY)
        vault.token_for("PERSON", "Alice")
        vault.token_for("PERSON", "Bob")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE vault_entries SET token = '<PERSON_9>' WHERE token = '<PERSON_1>'")
        conn.execute("UPDATE vault_entries SET token = '<PERSON_1>' WHERE token = '<PERSON_2>'")
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, key=KEY)
        assert vault.restore("<PERSON_1>") == ("<PERSON_1>", 0, 1)


def test_sqlite_file_holds_no_plaintext_values(db: Path) -> None:
    values = ["alice.secret@corp.com", "Alice Confidential", "DE89370400440532013000"]
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, tenant="acme", key=KEY, surrogates=True)
        for v, entity in zip(values, ["EMAIL_ADDRESS", "PERSON", "IBAN_CODE"], strict=True):
            vault.token_for(entity, v)
        on_disk = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    for v in values:
        for encoded in (v.encode(), v.encode("utf-16-le"), v.lower().encode()):
            assert encoded not in on_disk
    assert (db.stat().st_mode & 0o077) == 0


def test_sqlite_store_without_key_raises_configuration_error(db: Path) -> None:
    with SQLiteVaultStore(db) as store, pytest.raises(ConfigurationError, match=KEY_ENV):
        PseudonymVault(store)


def test_vault_key_can_come_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "an environment key of enough length")
    with SQLiteVaultStore(db) as store:
        tok = PseudonymVault(store, session="s").token_for("PERSON", "Alice")
    with SQLiteVaultStore(db) as store:
        assert PseudonymVault(store, session="s").value_for(tok) == "Alice"
        assert PseudonymVault(store, session="s", key=OTHER_KEY).value_for(tok) is None


def test_short_key_is_rejected_without_showing_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        PseudonymVault(key=b"tiny-secret")
    assert "tiny-secret" not in str(info.value)


def test_memory_vaults_without_a_key_do_not_share_a_key() -> None:
    store = MemoryVaultStore()
    tok = PseudonymVault(store).token_for("PERSON", "Alice")
    assert PseudonymVault(store).value_for(tok) is None


def test_a_file_that_is_not_a_vault_is_a_configuration_error(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigurationError):
        SQLiteVaultStore(bogus)
    with pytest.raises(ConfigurationError):
        SQLiteVaultStore(tmp_path / "missing-dir" / "vault.sqlite3")


def test_repr_never_shows_values_or_keys(db: Path) -> None:
    secret_key = b"do-not-print-this-key-anywhere!!"
    with SQLiteVaultStore(db) as store:
        vault = PseudonymVault(store, tenant="acme", session="s1", key=secret_key, surrogates=True)
        vault.token_for("PERSON", "Alice Confidential")
        entry = store.get_entry(vault_scope := scope_id("acme", "s1"), store.tokens(vault_scope)[0])
        shown = repr(vault) + str(vault) + repr(store) + repr(entry) + repr(MemoryVaultStore())
    assert "Alice" not in shown and "do-not-print" not in shown and "ciphertext=" not in shown
    assert "acme" in repr(vault)


# ---- concurrency ----------------------------------------------------------------------------------

def _hammer(vault: PseudonymVault, *, threads: int = 16, calls: int = 500, distinct: int = 200) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    seen_lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            local: dict[str, set[str]] = {}
            for i in range(calls):
                value = f"user{(i * 7 + t * 13) % distinct}@corp.com"
                local.setdefault(value, set()).add(vault.token_for("EMAIL_ADDRESS", value))
            with seen_lock:
                for value, toks in local.items():
                    seen.setdefault(value, set()).update(toks)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert not errors, errors
    return seen


@pytest.mark.parametrize("surrogates", [False, True], ids=["tokens", "surrogates"])
def test_many_threads_lose_and_confuse_nothing(store: VaultStore, surrogates: bool) -> None:
    vault = PseudonymVault(store, tenant="acme", session="s1", key=KEY, surrogates=surrogates)
    seen = _hammer(vault)
    assert len(seen) == 200
    assert all(len(toks) == 1 for toks in seen.values())  # each value got one token
    tokens = {next(iter(toks)) for toks in seen.values()}
    assert len(tokens) == 200  # and no token went to two values
    assert len(vault) == 200
    for value, toks in seen.items():
        assert vault.value_for(next(iter(toks))) == value
    if not surrogates:
        assert tokens == {f"<EMAIL_ADDRESS_{n}>" for n in range(1, 201)}


def test_two_stores_on_one_sqlite_file_agree_under_contention(db: Path) -> None:
    with SQLiteVaultStore(db) as s1, SQLiteVaultStore(db) as s2:
        v1 = PseudonymVault(s1, session="s", key=KEY)
        v2 = PseudonymVault(s2, session="s", key=KEY)
        results: list[dict[str, set[str]]] = []
        runners = [threading.Thread(target=lambda v=v: results.append(_hammer(v, threads=8, calls=250)))
                   for v in (v1, v2)]
        for r in runners:
            r.start()
        for r in runners:
            r.join()
        assert len(results) == 2
        merged: dict[str, set[str]] = {}
        for res in results:
            for value, toks in res.items():
                merged.setdefault(value, set()).update(toks)
        assert all(len(toks) == 1 for toks in merged.values())
        assert len({next(iter(t)) for t in merged.values()}) == len(merged) == len(v1) == len(v2)
