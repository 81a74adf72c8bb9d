"""ctxguard: a context-and-memory firewall for LLM agents.

    import ctxguard
    fw = ctxguard.Firewall()                     # the built-in default policy: safe with no configuration
    with fw.session(principal="alice", tenant="acme", clearance="internal") as s:
        d = s.admit(page_text, source="tool:web_search")
        d = s.check_tool_call("send_email", {"to": addr, "body": body})
        if d.blocked: ...

Everything a user needs is exported here; submodules are implementation.
"""

from .approvals import ApprovalRequest, ApprovalResult, Approver, terminal_approver
from .audit import AuditLog, VerifyReport, verify
from .decision import Action, Decision, Direction, Finding
from .errors import Blocked, ConfigurationError, CtxGuardError, IntegrityError, PolicyError, PolicyProblem
from .firewall import Firewall
from .labels import Label, LabelSigner, Levels, join
from .policy import Policy, PolicyModel, Strategy, ToolClass
from .scope import Scope
from .session import Session
from .stream import OutputStream

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ApprovalRequest",
    "ApprovalResult",
    "Approver",
    "AuditLog",
    "Blocked",
    "ConfigurationError",
    "CtxGuardError",
    "Decision",
    "Direction",
    "Finding",
    "Firewall",
    "IntegrityError",
    "Label",
    "LabelSigner",
    "Levels",
    "OutputStream",
    "Policy",
    "PolicyError",
    "PolicyModel",
    "PolicyProblem",
    "Scope",
    "Session",
    "Strategy",
    "ToolClass",
    "VerifyReport",
    "__version__",
    "join",
    "terminal_approver",
    "verify",
]
