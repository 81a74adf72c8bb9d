"""The policy language: schema (pydantic), YAML loader with line numbers, compiled runtime view."""

from .compiled import Glob, Policy
from .loader import load_policy_file, parse_policy_text
from .schema import PolicyModel, Strategy, ToolClass

__all__ = ["Glob", "Policy", "PolicyModel", "Strategy", "ToolClass", "load_policy_file", "parse_policy_text"]
