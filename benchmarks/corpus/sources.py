"""Every source the learned injection model is trained and evaluated on, each as labelled texts.

A source is one origin of text (one data set, one author), so that evaluation can hold a whole source
out: a model tested on a source it never saw in any form. Sources and licences are listed in
``ctxguard/detect/injection/DATA_CARD.md``; nothing here comes from garak, CyberSecEval, Tensor Trust
or AgentDojo, or from a corpus built from them.
"""

from __future__ import annotations

import ast
import json
import random
import re
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import bench_injection  # noqa: E402

from . import written  # noqa: E402

SPIKEE_VERSION = "0.9.2"


@dataclass(frozen=True)
class Text:
    source: str  # e.g. "injecagent", "bipia-email", "spikee", "written-fr", "notinject", "stdlib-docs"
    label: int
    text: str
    attack: str = ""  # the injected text alone, when the text is an attack placed in a context
    split: str = ""   # for the injection benchmark's sets: its train/test side


def shared(root: Path = bench_injection.DEFAULT_DATA) -> Iterator[Text]:
    """InjecAgent, BIPIA and NotInject as the injection benchmark loads them (both of its splits)."""
    for c in bench_injection.load_all(root):
        if c.dataset.startswith("injecagent"):
            source = "injecagent"
        else:
            source = c.dataset  # notinject, bipia-email, bipia-code
        yield Text(source, c.label, c.text, c.attack, c.split)


def written_texts() -> Iterator[Text]:
    for e in written.examples():
        yield Text(f"written-{e.lang}", e.label, e.text, e.attack)


def _spikee_wheel(cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"spikee-{SPIKEE_VERSION}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache),
                        f"spikee=={SPIKEE_VERSION}"], check=True)
        found = sorted(cache.glob(f"spikee-{SPIKEE_VERSION}-*.whl"))
    return found[0]


def _jsonl(z: zipfile.ZipFile, name: str) -> list[dict]:
    try:
        raw = z.read(name).decode()
    except KeyError:
        return []
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


SPIKEE_SEEDS = ("seeds-cybersec-2026-01", "seeds-sysmsg-extraction-2025-04", "seeds-llm-mailbox")


def spikee(cache: Path | None = None, seed: int = 0) -> Iterator[Text]:
    """WithSecure's spikee seeds (Apache-2.0, on PyPI): its own jailbreak framings x instructions,
    matched by language (English, Irish, Scottish Gaelic, Albanian, Zulu), placed in its benign
    documents; the documents alone are negatives."""
    wheel = _spikee_wheel(cache or Path(tempfile.gettempdir()) / "ctxguard-spikee")
    rng = random.Random(seed)
    base = "spikee/data/workspace/datasets/"
    with zipfile.ZipFile(wheel) as z:
        docs: list[str] = []
        for s in SPIKEE_SEEDS:
            for row in _jsonl(z, f"{base}{s}/base_user_inputs.jsonl"):
                d = row.get("document", "").replace(row.get("placeholder", "<PLACEHOLDER>"), "").strip()
                if len(d) > 40:
                    docs.append(d)
        for row in _jsonl(z, f"{base}seeds-investment-advice-fp/standalone_user_inputs.jsonl"):
            docs.append(row["text"])
        docs = sorted(set(docs))
        for d in docs:
            yield Text("spikee", 0, d)
        seen: set[str] = set()
        for s in SPIKEE_SEEDS:
            jailbreaks = _jsonl(z, f"{base}{s}/jailbreaks.jsonl")
            instructions = _jsonl(z, f"{base}{s}/instructions.jsonl")
            for jb in jailbreaks:
                lang = jb.get("lang", "en")
                matching = [i for i in instructions if i.get("lang", "en") == lang] or instructions
                for ins in rng.sample(matching, min(4, len(matching))):
                    attack = jb["text"].replace("<INSTRUCTION>", ins["instruction"])
                    if attack in seen:
                        continue
                    seen.add(attack)
                    context = rng.choice(docs) if docs and rng.random() < 0.5 else ""
                    text = f"{context}\n{attack}" if context else attack
                    yield Text("spikee", 1, text, attack)


def stdlib_docstrings(limit: int = 3000, seed: int = 0) -> Iterator[Text]:
    """Docstrings of the Python standard library (PSF licence), read with ``ast`` (nothing imported):
    technical prose full of imperatives ("Send data to the socket", "Delete the file")."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs: list[str] = []
    for path in sorted(root.glob("*.py")) + sorted(root.glob("*/*.py")):
        if "test" in path.parts[-2:][0] or path.name.startswith("test"):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                d = ast.get_docstring(node)
                if d and 40 <= len(d) <= 3000:
                    docs.append(d)
    random.Random(seed).shuffle(docs)
    for d in docs[:limit]:
        yield Text("stdlib-docs", 0, d)


def spacy_examples() -> Iterator[Text]:
    """The example sentences spaCy ships for each language (MIT): short news-like text in 40+ languages."""
    import importlib
    import pkgutil

    import spacy.lang

    for mod in pkgutil.iter_modules(spacy.lang.__path__):
        try:
            ex = importlib.import_module(f"spacy.lang.{mod.name}.examples")
        except ImportError:
            continue
        for s in getattr(ex, "sentences", []):
            if isinstance(s, str) and len(s) > 10:
                yield Text("spacy-examples", 0, s)


FAKER_LOCALES = ("en_US", "fr_FR", "de_DE", "es_ES", "it_IT", "zh_CN", "ja_JP", "ru_RU", "nl_NL", "pl_PL")


def faker_text(per_locale: int = 150, seed: int = 0) -> Iterator[Text]:
    """Faker's word-list text per locale (MIT): the languages' vocabulary with no intent at all, so
    that a language is not itself evidence of an injection."""
    from faker import Faker

    for loc in FAKER_LOCALES:
        f = Faker(loc)
        f.seed_instance(seed)
        for _ in range(per_locale):
            yield Text("faker", 0, f.text(max_nb_chars=300))


def presidio_sentences(n: int = 2000, seed: int = 7) -> Iterator[Text]:
    """presidio-evaluator's generated sentences (MIT): people, cards, accounts, addresses, requests
    about them ("Please charge my card ..."): benign text in the vocabulary of money and identity.
    A different seed from the PII benchmark's."""
    import bench_pii

    for text, _ in bench_pii.fake_sentences(n, seed):
        yield Text("presidio-evaluator", 0, text)


_EXCLUDED_PACKAGES = re.compile(r"ctxguard|spikee|garak|guard|inject|jailbreak|prompt|llm|red.?team")


def package_readmes(limit: int = 3000, seed: int = 0) -> Iterator[Text]:
    """Paragraphs of the long descriptions of the installed Python packages (each under its own
    OSI-approved licence; used only as benign training text, not redistributed): instructions to a
    human reader ("Install it with pip", "Run the following command", "Set the environment variable").
    Packages about prompts, LLM security or injection are left out: their READMEs quote attacks."""
    import importlib.metadata as md

    paragraphs: list[str] = []
    for dist in sorted(md.distributions(), key=lambda d: (d.metadata.get("Name") or "").lower()):
        name = (dist.metadata.get("Name") or "").lower()
        if not name or _EXCLUDED_PACKAGES.search(name):
            continue
        body = dist.metadata.get_payload() or dist.metadata.get("Description") or ""  # type: ignore[attr-defined]
        paragraphs += [p.strip() for p in re.split(r"\n\s*\n", body) if 60 <= len(p.strip()) <= 2000]
    random.Random(seed).shuffle(paragraphs)
    for p in paragraphs[:limit]:
        yield Text("package-readmes", 0, p)


def all_texts(spikee_cache: Path | None = None) -> list[Text]:
    return [*shared(), *written_texts(), *spikee(spikee_cache), *stdlib_docstrings(), *spacy_examples(),
            *faker_text(), *presidio_sentences(), *package_readmes()]
