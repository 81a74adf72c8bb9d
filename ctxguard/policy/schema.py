"""The policy language, as pydantic models: parsed once, validated once, read-only afterwards.

Every model forbids unknown keys, so a typo (``on_eror``) is an error with a line number rather
than a setting silently ignored; a firewall whose policy quietly does nothing is worse than none.
The defaults of every field are the safe choice: with an empty policy file ctxguard enforces,
fails closed, treats unknown sources and tools as untrusted side-effect tools and blocks secrets.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..decision import Action, Direction

DEFAULT_TRUST_LEVELS = ["system", "user", "internal", "external", "untrusted", "hostile"]
DEFAULT_CONFIDENTIALITY_LEVELS = ["public", "internal", "confidential", "secret"]
DEFAULT_SOURCES = {
    "system": "system",
    "user": "user",
    "memory:*": "internal",
    "retriever:*": "internal",
    "tool:*": "untrusted",
}
# The built-in redaction table. Secrets never go into a tool; cards are masked for the model and
# blocked into tools; contact details are pseudonymised for the model and restored where allowed.
DEFAULT_ENTITIES: dict[str, Any] = {
    "SECRET": {"into_model": "redact", "into_memory": "redact", "into_tool": "block", "out_to_user": "redact"},
    "CREDIT_CARD": {"into_model": "mask", "into_memory": "redact", "into_tool": "block", "out_to_user": "mask"},
    "US_SSN": "redact",
    "IBAN_CODE": {"into_model": "allow", "into_memory": "redact", "into_tool": "allow", "out_to_user": "allow"},
    "EMAIL_ADDRESS": {"into_model": "pseudonymize", "into_memory": "redact", "into_tool": "allow",
                      "out_to_user": "allow"},
    "PHONE_NUMBER": {"into_model": "pseudonymize", "into_memory": "redact", "into_tool": "allow",
                     "out_to_user": "allow"},
    "PERSON": "allow",
}


def _at(*path: str | int) -> str:
    """Prefix for a validator message so the loader can point at the exact field (and its line)."""
    return "at " + json.dumps(list(path)) + ": "


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


_SERVER_SCHEMES = {"redis": ("redis", "rediss", "unix"), "postgres": ("postgresql", "postgres")}


def _check_server(kind: str, url: str | None, url_env: str | None) -> None:
    """A shared store needs exactly one of url / url_env, of its own scheme, with no password in it:
    policy files get committed and copied, so a password belongs in the variable ``url_env`` names."""
    if kind not in _SERVER_SCHEMES:
        if url or url_env:
            raise ValueError(f"{_at('url')}url and url_env are for the redis and postgres stores, not {kind}")
        return
    if bool(url) == bool(url_env):
        raise ValueError(f"{_at('url')}the {kind} store needs one of url or url_env (the variable holding it)")
    if url:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            raise ValueError(f"{_at('url')}not a URL") from None
        if parts.scheme.lower() not in _SERVER_SCHEMES[kind]:
            schemes = " or ".join(f"{x}://" for x in _SERVER_SCHEMES[kind])
            raise ValueError(f"{_at('url')}a {kind} URL starts with {schemes}")
        if password is not None:
            raise ValueError(f"{_at('url')}the URL holds a password: put the URL in an environment variable and "
                             "name it in url_env")


class Strategy(str, Enum):
    """What to do with a sensitive entity found in content going in a given direction."""

    ALLOW = "allow"  # pass it through unchanged (still recorded in findings and the audit log)
    REDACT = "redact"  # <EMAIL_ADDRESS>
    MASK = "mask"  # ****@*****.com style: keep length, hide characters
    HASH = "hash"  # <EMAIL_ADDRESS:3f2a9c1d>, keyed, stable within the tenant
    PSEUDONYMIZE = "pseudonymize"  # <PERSON_1>, reversible through the session's vault
    BLOCK = "block"  # the whole content is refused

    @property
    def action(self) -> Action:
        if self is Strategy.ALLOW:
            return Action.ALLOW
        if self is Strategy.BLOCK:
            return Action.BLOCK
        return Action.REDACT


class DirectionStrategies(_Model):
    """One strategy per direction. A bare string in YAML sets all four at once.

    A direction left out inherits: from the built-in entry for the same entity, then from ``SECRET``
    for a specific secret type, then from ``redaction.default``. So ``SECRET:AWS_ACCESS_KEY:
    {into_model: hash}`` changes one direction and keeps ``SECRET``'s block into tools.
    """

    into_model: Strategy | None = None
    into_memory: Strategy | None = None
    into_tool: Strategy | None = None
    out_to_user: Strategy | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_single(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = [s.value for s in Strategy]
            if value not in names:
                raise ValueError(f"unknown strategy {value!r}; expected one of {names}")
            return {d.value: value for d in Direction}
        return value

    def for_direction(self, direction: Direction) -> Strategy | None:
        return getattr(self, direction.value)  # type: ignore[no-any-return]


def _merged(defaults: dict[str, Any], value: Any, *, per_key: bool = False) -> Any:
    """User entries first (first-match tables keep the user's order), then defaults not overridden.

    With ``per_key``, a user's mapping entry for a key that has a default is layered over it, so
    naming one direction of an entity does not reset the others.
    """
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, entry in value.items():
        base = defaults.get(key) if isinstance(key, str) else None
        if per_key and isinstance(base, str):  # a default for all directions ("PERSON: allow")
            base = {d.value: base for d in Direction}
        if per_key and isinstance(base, dict) and isinstance(entry, dict):
            out[key] = {**base, **entry}
        else:
            out[key] = entry
    for key, entry in defaults.items():
        out.setdefault(key, entry)
    return out


class TrustPolicy(_Model):
    """Trust levels (highest first) and the map from source names to a level.

    Source patterns are shell-style globs matched in the order written; the first match wins, so put
    specific patterns (``tool:web_*``) before general ones (``tool:*``).
    """

    levels: list[str] = Field(default_factory=lambda: list(DEFAULT_TRUST_LEVELS), min_length=2)
    default: str = "untrusted"
    # Merged with the built-in map: your patterns first, in your order, then the built-in ones you did
    # not name (so setting "tool:web_*" keeps "user" -> user and "tool:*" -> untrusted).
    sources: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SOURCES))

    # Segments a detector flags as injected drop to this level.
    flagged: str = "hostile"

    @model_validator(mode="after")
    def _levels_known(self) -> TrustPolicy:
        known = set(self.levels)
        if len(known) != len(self.levels):
            raise ValueError(f"{_at('levels')}trust levels must be unique")
        for name, where in [(self.default, "default"), (self.flagged, "flagged")]:
            if name not in known:
                hint = " (set this too when declaring your own levels)" if name in DEFAULT_TRUST_LEVELS else ""
                raise ValueError(f"{_at(where)}unknown trust level {name!r}; declared: {self.levels}{hint}")
        for pattern, level in self.sources.items():
            if level not in known:
                raise ValueError(f"{_at('sources', pattern)}unknown trust level {level!r}; declared: {self.levels}")
        return self


class TenantPolicy(_Model):
    max_clearance: str | None = None
    description: str = ""


class AccessPolicy(_Model):
    """Confidentiality levels (lowest first), tenants, and what a session may see.

    A session's clearance is a confidentiality level: it sees content at or below it, of its own
    tenant. When ``tenants`` is non-empty, only those tenants may open sessions.
    """

    levels: list[str] = Field(default_factory=lambda: list(DEFAULT_CONFIDENTIALITY_LEVELS), min_length=1)
    default_confidentiality: str = "internal"
    default_clearance: str = "internal"
    tenants: dict[str, TenantPolicy] = Field(default_factory=dict)
    # Content labelled for another tenant, or above the session's clearance, entering the context.
    on_out_of_scope: Literal["block", "allow"] = "block"

    @model_validator(mode="after")
    def _levels_known(self) -> AccessPolicy:
        known = set(self.levels)
        if len(known) != len(self.levels):
            raise ValueError(f"{_at('levels')}confidentiality levels must be unique")
        for name, where in [
            (self.default_confidentiality, "default_confidentiality"),
            (self.default_clearance, "default_clearance"),
        ]:
            if name not in known:
                raise ValueError(f"{_at(where)}unknown confidentiality level {name!r}; declared: {self.levels}")
        for tenant, spec in self.tenants.items():
            if spec.max_clearance is not None and spec.max_clearance not in known:
                raise ValueError(
                    f"{_at('tenants', tenant, 'max_clearance')}unknown level {spec.max_clearance!r}; "
                    f"declared: {self.levels}"
                )
        return self


class VaultPolicy(_Model):
    """Where pseudonyms live. ``sqlite`` keeps them across restarts (values encrypted at rest) and
    needs a stable key in the ``key_env`` variable; ``redis`` and ``postgres`` share them between agent
    processes (same key in every process); ``memory`` lasts as long as the Firewall."""

    store: Literal["memory", "sqlite", "redis", "postgres"] = "memory"
    path: str | None = None
    url: str | None = None
    url_env: str | None = None
    server_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    key_env: str = "CTXGUARD_VAULT_KEY"
    # Realistic stand-ins (dana.whitfield@example.org) instead of <EMAIL_ADDRESS_1>, where supported.
    surrogates: bool = False

    @model_validator(mode="after")
    def _sqlite_needs_path(self) -> VaultPolicy:
        if self.store == "sqlite" and not self.path:
            raise ValueError(f"{_at('path')}the sqlite vault needs a path")
        _check_server(self.store, self.url, self.url_env)
        return self


class RedactionPolicy(_Model):
    """Entity -> strategy per direction.

    Entities are Presidio entity names (``EMAIL_ADDRESS``), ``SECRET`` for every secret type, or a
    specific secret type (``SECRET:AWS_ACCESS_KEY``), which wins over ``SECRET``. Your entries are
    layered over the built-in table (``ctxguard policy default`` prints it), direction by direction.
    """

    default: DirectionStrategies = Field(default_factory=lambda: DirectionStrategies.model_validate("redact"))
    entities: dict[str, DirectionStrategies] = Field(
        default_factory=lambda: {k: DirectionStrategies.model_validate(v) for k, v in DEFAULT_ENTITIES.items()}
    )
    hash_length: int = Field(default=8, ge=4, le=64)
    vault: VaultPolicy = Field(default_factory=VaultPolicy)

    @field_validator("entities", mode="before")
    @classmethod
    def _merge_entities(cls, value: Any) -> Any:
        return _merged(DEFAULT_ENTITIES, value, per_key=True)


class PiiDetection(_Model):
    enabled: bool = True
    # The spaCy pipeline Presidio uses for NER; resolved offline (see ctxguard.detect.pii).
    model: str = "en_core_web_sm"
    language: str = "en"
    entities: list[str] = Field(
        default_factory=lambda: [
            "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "PERSON",
        ]
    )
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # When spaCy's NER runs. auto: on a text only where a redaction strategy (not allow) or a rule acts,
    # in that text's direction, on an entity only NER finds (PERSON, LOCATION, ...); elsewhere the
    # pattern entities are found exactly as before and NER entities are not reported. always: on every
    # text, so that the audit log also lists names the policy lets through.
    ner: Literal["auto", "always"] = "auto"


class SecretsDetection(_Model):
    enabled: bool = True


class InjectionDetection(_Model):
    enabled: bool = True
    # Content at or below this trust is scanned; trusted sources (the user, the system) are not.
    scan_at_or_below: str = "external"
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # mark: the segment's trust drops to trust.flagged and it is admitted with a warning;
    # block: the segment does not enter the context at all.
    on_detect: Literal["mark", "block"] = "mark"
    # The learned n-gram model shipped in the package (ctxguard/detect/injection/DATA_CARD.md) beside
    # the rules; "none" leaves the rules alone (English-only, no paraphrase).
    model: Literal["ngram", "none"] = "ngram"


class DetectionPolicy(_Model):
    pii: PiiDetection = Field(default_factory=PiiDetection)
    secrets: SecretsDetection = Field(default_factory=SecretsDetection)
    injection: InjectionDetection = Field(default_factory=InjectionDetection)
    max_chars: int = Field(default=2_000_000, ge=1)


class ToolClass(str, Enum):
    READ_ONLY = "read_only"
    SIDE_EFFECT = "side_effect"
    EGRESS = "egress"


class ArgumentRule(_Model):
    """Constraints on one argument of a tool call."""

    allow: list[str] = Field(default_factory=list)  # globs; when set, the value must match one
    deny: list[str] = Field(default_factory=list)  # globs; a match blocks
    max_length: int | None = Field(default=None, ge=0)
    # The lowest trust a value of this argument may come from; lower blocks.
    min_trust: str | None = None
    destination: bool = False  # the value names where data goes (an address, a URL, a host)


OnValueFrom = Annotated[dict[str, Action], Field(description="trust level -> action for argument values from it")]


class ToolPolicy(_Model):
    cls: ToolClass = Field(default=ToolClass.SIDE_EFFECT, alias="class")
    args: dict[str, ArgumentRule] = Field(default_factory=dict)
    # Globs over destination values (e-mail addresses, URLs, host names); empty = use exfiltration.allowed_domains.
    destinations: list[str] = Field(default_factory=list)
    require_approval: bool = False
    on_value_from: dict[str, Action] | None = None
    # Mark a read-only or side-effect tool to receive real values for the pseudonyms the model passes
    # it (restored before the checks, so each entity's into_tool strategy still applies). Egress
    # tools never receive them: a pseudonym is how a value is kept from leaving.
    restore_pseudonyms: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _egress_never_restores(self) -> ToolPolicy:
        if self.restore_pseudonyms and self.cls is ToolClass.EGRESS:
            raise ValueError(f"{_at('restore_pseudonyms')}egress tools never receive real values behind pseudonyms")
        return self


DEFAULT_ON_VALUE_FROM = {"hostile": Action.BLOCK, "untrusted": Action.ALLOW}


class ToolsPolicy(_Model):
    """Per-tool rules. Tools not listed get ``default``: unknown tools are treated as side-effect tools."""

    default: ToolPolicy = Field(default_factory=ToolPolicy)
    # For side-effect and egress calls: the action for an argument value that came from content of this
    # trust. Values from hostile (injected) spans are blocked; untrusted values are allowed because users'
    # own calls routinely carry them (an IBAN read from a bill).
    on_value_from: dict[str, Action] = Field(default_factory=lambda: dict(DEFAULT_ON_VALUE_FROM))
    # A side-effect or egress call that the user's (or system's) own words do not ask for, made while
    # the session holds injected content or carrying a value from untrusted content (ctxguard.flow.support).
    unsupported_call: Action = Action.REQUIRE_APPROVAL
    # "do what the e-mail says": deny (the delegated calls need support of their own), allow (the
    # request authorises what the content asks), judge (the judge decides each such call).
    delegation: Literal["deny", "allow", "judge"] = "deny"
    # When the support check applies: "untrusted" (any content at or below trust.default is in the
    # context) or "injected" (only once an injection was flagged or a value came from untrusted content).
    check_support_when: Literal["untrusted", "injected"] = "untrusted"
    tools: dict[str, ToolPolicy] = Field(default_factory=dict)



class ExfiltrationPolicy(_Model):
    # Hosts (globs: "*.acme.com") that URLs in tool arguments and outputs may point to.
    allowed_domains: list[str] = Field(default_factory=list)
    canary_tokens: list[str] = Field(default_factory=list)
    # Markdown images to hosts not allowed are the classic zero-click exfiltration channel.
    block_markdown_images: bool = True
    on_unknown_domain: Action = Action.BLOCK
    # Minimum confidentiality whose verbatim copy into a tool argument or output blocks.
    confidential_from: str = "confidential"


class ApprovalPolicy(_Model):
    # Without an approver, a call that needs approval is refused (fail closed).
    when_no_approver: Literal["block", "allow"] = "block"
    timeout_seconds: float = Field(default=300.0, gt=0)
    # A shared queue: requests wait in Redis or PostgreSQL for a reviewer in another process
    # (ctxguard approvals list / answer). Requests and answers are sealed with the key in key_env.
    queue: Literal["none", "redis", "postgres"] = "none"
    url: str | None = None
    url_env: str | None = None
    name: str = Field(default="default", min_length=1, max_length=128)
    key_env: str = "CTXGUARD_APPROVAL_KEY"
    server_timeout_seconds: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _queue_server(self) -> ApprovalPolicy:
        _check_server(self.queue, self.url, self.url_env)
        return self


class SourceBudget(_Model):
    max_tokens: int = Field(ge=0)
    on_exceed: Literal["truncate", "refuse"] = "truncate"


DEFAULT_BUDGETS: dict[str, Any] = {"tool:*": {"max_tokens": 8000, "on_exceed": "truncate"}}


class BudgetPolicy(_Model):
    encoding: str = "cl100k_base"
    session_max_tokens: int | None = Field(default=None, ge=0)
    on_session_exceed: Literal["truncate", "refuse"] = "refuse"
    # Source globs -> budget; first match wins. Untrusted tools get a bounded share by default.
    # Merged like trust.sources: your patterns first, then the built-in "tool:*" unless you name it.
    sources: dict[str, SourceBudget] = Field(
        default_factory=lambda: {k: SourceBudget.model_validate(v) for k, v in DEFAULT_BUDGETS.items()}
    )

    @field_validator("sources", mode="before")
    @classmethod
    def _merge_budgets(cls, value: Any) -> Any:
        return _merged(DEFAULT_BUDGETS, value)


class RuleMatch(_Model):
    """Conditions of a rule; all given conditions must hold. Globs where a name is matched."""

    direction: list[Direction] | None = None
    source: str | None = None
    trust_at_or_below: str | None = None
    tool: str | None = None
    tool_class: ToolClass | None = None
    finding: str | None = None  # glob over finding kinds: "secret:*", "pii:EMAIL_ADDRESS", "injection"


class Rule(_Model):
    """An override evaluated before the built-in sections; the first rule that matches decides.

    A rule with ``finding`` decides the action for each matching finding; a rule without it decides
    for the content or the call as a whole.
    """

    name: str = Field(min_length=1)
    when: RuleMatch = Field(default_factory=RuleMatch)
    action: Action
    reason: str = ""


class SpotlightPolicy(_Model):
    """How untrusted content is marked when it enters the model (see ctxguard.redact.spotlight)."""

    mode: Literal["delimit", "datamark", "encode", "off"] = "delimit"
    # Content at or below this trust is marked; unset means the trust of unknown sources (trust.default).
    at_or_below: str | None = None


class AuditPolicy(_Model):
    # file: one writer process per file (path None: in memory only). redis / postgres: one chain that
    # many processes append to, named by ``chain``.
    store: Literal["file", "redis", "postgres"] = "file"
    path: str | None = None  # None: in-memory only
    key_env: str = "CTXGUARD_AUDIT_KEY"  # HMAC key for the chain, read from this variable if set
    fsync: bool = False
    url: str | None = None
    url_env: str | None = None
    chain: str = Field(default="default", min_length=1, max_length=128)
    # A local file that keeps events while the shared store is down; chained when it is back.
    spool: str | None = None
    server_timeout_seconds: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _audit_store(self) -> AuditPolicy:
        _check_server(self.store, self.url, self.url_env)
        if self.store != "file" and self.path:
            raise ValueError(f"{_at('path')}path is for the file store; the {self.store} store uses url")
        if self.store == "file" and self.spool:
            raise ValueError(f"{_at('spool')}a spool is for the redis and postgres stores")
        return self


class PolicyModel(_Model):
    """A whole ctxguard policy. Every section is optional; the defaults are safe."""

    version: Literal[1] = 1
    mode: Literal["enforce", "shadow"] = "enforce"
    on_error: Literal["block", "allow"] = "block"
    signing_key_env: str = "CTXGUARD_SIGNING_KEY"
    trust: TrustPolicy = Field(default_factory=TrustPolicy)
    access: AccessPolicy = Field(default_factory=AccessPolicy)
    redaction: RedactionPolicy = Field(default_factory=RedactionPolicy)
    detection: DetectionPolicy = Field(default_factory=DetectionPolicy)
    tools: ToolsPolicy = Field(default_factory=ToolsPolicy)
    exfiltration: ExfiltrationPolicy = Field(default_factory=ExfiltrationPolicy)
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    budgets: BudgetPolicy = Field(default_factory=BudgetPolicy)
    rules: list[Rule] = Field(default_factory=list)
    spotlight: SpotlightPolicy = Field(default_factory=SpotlightPolicy)
    audit: AuditPolicy = Field(default_factory=AuditPolicy)

    @field_validator("rules")
    @classmethod
    def _unique_rule_names(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for i, r in enumerate(rules):
            if r.name in seen:
                raise ValueError(f"{_at(i, 'name')}duplicate rule name {r.name!r}")
            seen.add(r.name)
        return rules

    @model_validator(mode="before")
    @classmethod
    def _merge_level_tables(cls, data: Any) -> Any:
        """Layer the built-in trust tables under the user's, keeping only entries for declared levels.

        Done here rather than per field because which built-in entries apply depends on the trust
        levels declared in another section: a policy with its own levels must not inherit a
        ``tool:* -> untrusted`` it never declared. Naming ``untrusted`` in ``on_value_from`` must
        not silently relax ``hostile`` either, so the built-in rows stay unless overridden.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        trust = data.get("trust", {})
        tools = data.get("tools", {})
        if not isinstance(trust, dict) or not isinstance(tools, dict):
            return data
        levels = trust.get("levels", DEFAULT_TRUST_LEVELS)
        known = set(levels) if isinstance(levels, list) and all(isinstance(x, str) for x in levels) else set()
        trust = dict(trust)
        trust["sources"] = _merged({k: v for k, v in DEFAULT_SOURCES.items() if v in known}, trust.get("sources", {}))
        tools = dict(tools)
        defaults = {k: v.value for k, v in DEFAULT_ON_VALUE_FROM.items() if k in known}
        flagged = trust.get("flagged", "hostile")
        if isinstance(flagged, str) and flagged in known:
            defaults.setdefault(flagged, Action.BLOCK.value)  # injected values never flow out by default
        tools["on_value_from"] = _merged(defaults, tools.get("on_value_from", {}))
        data["trust"], data["tools"] = trust, tools
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> PolicyModel:
        problems = cross_reference_problems(self.model_dump(mode="json", by_alias=True))
        if problems:
            path, message = problems[0]
            raise ValueError(f"{_at(*path)}{message}")
        return self


def cross_reference_problems(data: Any) -> list[tuple[list[str | int], str]]:
    """Names used in one section that another section must declare (trust and confidentiality levels).

    Works on raw, possibly malformed policy data, so ``policy check`` can report these alongside
    every other problem instead of only after the rest is fixed.
    """
    if not isinstance(data, dict):
        return []

    def section(*path: str) -> dict[str, Any]:
        node: Any = data
        for p in path:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def names(value: Any, default: list[str]) -> list[str] | None:
        if value is None:
            return default
        return value if isinstance(value, list) and all(isinstance(x, str) for x in value) else None

    out: list[tuple[list[str | int], str]] = []
    trust = names(section("trust").get("levels"), DEFAULT_TRUST_LEVELS)
    conf = names(section("access").get("levels"), DEFAULT_CONFIDENTIALITY_LEVELS)

    def check_trust(name: Any, *where: str | int) -> None:
        if trust is not None and isinstance(name, str) and name not in trust:
            out.append((list(where), f"unknown trust level {name!r}; declared: {trust}"))

    injection = section("detection", "injection")
    if "scan_at_or_below" in injection:
        check_trust(injection["scan_at_or_below"], "detection", "injection", "scan_at_or_below")
    elif trust is not None and "external" not in trust:
        out.append((["detection", "injection", "scan_at_or_below"],
                    f"the default 'external' is not a declared trust level; set it to one of {trust}"))
    for level in section("tools", "on_value_from"):
        check_trust(level, "tools", "on_value_from", level)
    for tname, tp in section("tools", "tools").items():
        if not isinstance(tp, dict):
            continue
        for level in tp.get("on_value_from") or {}:
            check_trust(level, "tools", "tools", tname, "on_value_from", level)
        args = tp.get("args") or {}
        for aname, ar in args.items() if isinstance(args, dict) else []:
            if isinstance(ar, dict):
                check_trust(ar.get("min_trust"), "tools", "tools", tname, "args", aname, "min_trust")
    check_trust(section("spotlight").get("at_or_below"), "spotlight", "at_or_below")
    rules = data.get("rules") or []
    for i, r in enumerate(rules if isinstance(rules, list) else []):
        when = r.get("when") if isinstance(r, dict) else None
        if isinstance(when, dict):
            check_trust(when.get("trust_at_or_below"), "rules", i, "when", "trust_at_or_below")
    confidential_from = section("exfiltration").get("confidential_from", "confidential")
    if conf is not None and isinstance(confidential_from, str) and confidential_from not in conf:
        out.append((["exfiltration", "confidential_from"],
                    f"unknown confidentiality level {confidential_from!r}; declared: {conf}"))
    return out
