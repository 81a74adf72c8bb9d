"""Detection: normalisation, Presidio PII, the secrets table, injection signatures."""

from .base import Detector
from .injection import InjectionDetector
from .normalize import Normalized, normalize
from .pii import PresidioDetector

__all__ = ["Detector", "InjectionDetector", "Normalized", "PresidioDetector", "normalize"]
