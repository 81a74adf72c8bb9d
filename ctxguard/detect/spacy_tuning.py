"""How spaCy is run here: one BLAS thread, numpy's matrix products instead of thinc's bundled blis."""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any, cast


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return None
    return threadpoolctl.ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """One BLAS thread while spaCy runs, when threadpoolctl is there to set it.

    The matrices here are small (a batch of sentences by 288 columns); a second OpenBLAS thread
    gained a quarter on an idle machine and lost a third whenever the other core was busy.
    """
    controller = _blas_controller()
    if controller is None:
        return nullcontext()
    return cast(AbstractContextManager[Any], controller.limit(limits=1, user_api="blas"))


def _prefer_numpy_gemm(nlp: Any) -> None:
    """Matrix products through numpy's BLAS rather than thinc's bundled blis.

    ``NumpyOps(use_blis=False)`` is thinc's own switch. It changes no entity or lemma on the benchmark
    sentences and about halves NER time where we measured: the bundled blis ran at a third of
    OpenBLAS's single-thread speed on these matrix shapes.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if type(node.ops).__name__ == "NumpyOps":
                node.ops = ops
