"""Secrets: one table of credential formats, run over the text in one linear-time pass.

Each row of ``CATALOGUE`` is a ``SecretType``: a name, patterns in RE2 syntax, a score, and what
a match must show beyond its shape. Three kinds of evidence, in falling order of specificity:

* a documented fixed prefix or structure (``ghp_`` + checksum, ``AKIA``, ``-----BEGIN … PRIVATE KEY``);
* a service keyword shortly before a token of the right shape and entropy (an AWS secret key is 40
  base64 characters, found only near "aws"), for credentials without a prefix;
* a generic assignment (``api_key = "…"``) whose name says credential and whose value looks random.

Entropy alone is never enough: hashes, IDs and base64 blobs have it too. When matches of two rows
overlap, the more specific one is reported, so ``token = "ghp_…"`` is a GitHub token, not a generic one.

Speed and safety: every pattern compiles under RE2, whose matching time is linear in the input
whatever it holds. When the ``hyperscan`` module is importable, the whole table is compiled into one
Hyperscan database that finds, in a single pass, which rows can match and where (Hyperscan reports
match end offsets); each candidate is then confirmed by the row's RE2 pattern on a window around
that offset, wide enough for the longest match the pattern allows. Windows of one row are merged,
so no byte is re-read more than once per row. Without ``hyperscan`` (or for a pattern it cannot
compile) the RE2 patterns run over the whole text, one row at a time: slower, equally correct, still
linear. A text that produces an abnormal number of candidates (repeated near-matches) also falls back
to that path, so hostile input cannot turn the candidate bookkeeping into the expensive part.

Presidio sees the table as one ``EntityRecognizer`` (``build_recognizers``) whose entities are
``SECRET_<NAME>``; ctxguard reports the finding kind ``secret:<NAME>``. Adding a secret type is one
row here and its true and false examples in ``tests/test_secrets.py``.
"""

from __future__ import annotations

import importlib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .._patterns import compile_linear
from ..decision import Finding
from ..errors import ConfigurationError
from . import validators as v
from .hyperscan_set import HyperscanSet, load_hyperscan

ENTITY_PREFIX = "SECRET_"

# Specificity: when findings overlap, the higher one is reported.
STRUCTURED, PREFIXED, KEYWORD, GENERIC = 4, 3, 2, 1


@dataclass(frozen=True, slots=True)
class SecretType:
    """One secret format.

    ``patterns`` are RE2 regular expressions; the secret is the first capture group that took part in
    the match (so surrounding context can be matched without being reported), or the whole match.
    ``keywords``: at least one must occur (case-insensitively) within ``keyword_window`` characters
    before the secret. ``validator`` receives the secret and may reject it (checksums, structure);
    ``min_entropy`` is a floor in Shannon bits per character. ``context_check`` receives the matched
    text before the secret (a generic assignment's variable name). ``specificity`` decides overlaps
    (0: ``KEYWORD`` when there are keywords, else ``PREFIXED``). ``max_len`` bounds a match for
    patterns with unbounded repetition (RE2 caps counted repetition at 1000); for the others it is
    derived from the pattern. ``trigger`` replaces the pattern in the Hyperscan prefilter; every match
    of the pattern must contain a match of the trigger. ``placeholder_check`` turns off the generic
    filler test for formats whose legitimate bodies contain long runs (DER inside PEM, JSON in JWTs);
    their validators test structure instead. A type may take several rows when its formats need
    different evidence; rows that share a name report the same kind.
    """

    name: str
    patterns: tuple[str, ...]
    score: float = 0.9
    keywords: tuple[str, ...] = ()
    validator: Callable[[str], bool] | None = None
    min_entropy: float | None = None
    specificity: int = 0
    context_check: Callable[[str], bool] | None = None
    max_len: int | None = None
    trigger: str | None = None
    keyword_window: int = 64
    placeholder_check: bool = True

    @property
    def rank(self) -> int:
        if self.specificity:
            return self.specificity
        return KEYWORD if self.keywords else PREFIXED


# Delimiters around tokens whose alphabet includes "-" (where \b would cut them short).
_L = r"(?:^|[^A-Za-z0-9_\-])"
_R = r"(?:[^A-Za-z0-9_\-]|$)"
_B64L = r"(?:^|[^A-Za-z0-9/+=])"
_B64R = r"(?:[^A-Za-z0-9/+=]|$)"
# URL userinfo characters (RFC 3986 unreserved, sub-delims and %-escapes) minus quotes, which end
# strings in code; ":" and "@" delimit.
_USERINFO = r"[A-Za-z0-9._~%!$&()*+,;=\-]"
_PRINTABLE = r"[\t !-~]"  # printable ASCII and tab: context that may not cross a line
_ASSIGN = r"[\"']?[ \t]{0,8}(?::=|=>|\?=|=|:)[ \t]{0,8}"
# Unquoted values stop at whitespace, quotes, commas, semicolons, brackets and braces.
_BARE = r"[A-Za-z0-9!#$%&*+\-./:=?@^_|~]"
_GENERIC_WORDS = (
    r"secret|token|passw(?:or)?d|pwd|pass|passphrase|credential|creds|api[_.\-]?key|apikey|"
    r"(?:access|private|auth|signing|encryption|master|client|account|app|license|service|storage|admin|"
    r"shared)[_.\-]?key"
)


def _url_password(schemes: str) -> str:
    return rf"(?i:\b(?:{schemes})://){_USERINFO}{{0,100}}:({_USERINFO}{{1,100}})@[A-Za-z0-9.\-\[\]]{{1,253}}"


CATALOGUE: tuple[SecretType, ...] = (
    # ---- cloud providers ----------------------------------------------------------------------------
    SecretType("AWS_ACCESS_KEY", (r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",)),
    SecretType("AWS_SECRET_KEY", (_B64L + r"([A-Za-z0-9/+]{40})" + _B64R,), 0.85,
               keywords=("aws", "amazon", "secret_access", "secretaccess", "secret-access"),
               validator=v.looks_random, min_entropy=4.0),
    SecretType("GCP_SERVICE_ACCOUNT_KEY",
               (r'"private_key"[ \t]{0,4}:[ \t]{0,4}"(-----BEGIN (?:RSA )?PRIVATE KEY-----'
                r'(?:[A-Za-z0-9+/=\t \r\n]|\\[nr])+-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)"',),
               0.95, validator=v.valid_pem_block, specificity=STRUCTURED, max_len=16384,
               trigger=r'"private_key"[ \t]{0,4}:[ \t]{0,4}"-----BEGIN', placeholder_check=False),
    # The marker of a service-account key file: the file is a credential even where the key is elided.
    SecretType("GCP_SERVICE_ACCOUNT_KEY", (r'"type"[ \t]{0,4}:[ \t]{0,4}"service_account"',), 0.7,
               placeholder_check=False),
    SecretType("GCP_API_KEY", (r"\b(AIza[0-9A-Za-z_\-]{35})" + _R,), 0.8),
    SecretType("GCP_OAUTH_CLIENT_SECRET", (r"\b(GOCSPX-[A-Za-z0-9_\-]{28})" + _R,)),
    SecretType("AZURE_STORAGE_KEY", (r"(?i:AccountKey)[ \t]{0,4}=[ \t]{0,4}([A-Za-z0-9+/]{86}==)",),
               validator=v.valid_azure_storage_key),
    SecretType("AZURE_STORAGE_KEY", (_B64L + r"([A-Za-z0-9+/]{86}==)" + _B64R,), 0.85,
               keywords=("azure", "storage", "accountkey", "account_key", "account-key", "blob"),
               validator=v.valid_azure_storage_key),
    SecretType("AZURE_CONNECTION_STRING",
               (r"(?i:DefaultEndpointsProtocol=https?;(?:[A-Za-z]{1,40}=[!-:<-~]{1,100};){0,6}"
                r"AccountKey=[A-Za-z0-9+/]{86}==(?:;[A-Za-z]{1,40}=[!-:<-~]{1,100}){0,6})",
                r"(?i:Endpoint=sb://[A-Za-z0-9.\-]{1,200}/?;SharedAccessKeyName=[!-:<-~]{1,100};"
                r"SharedAccessKey=[A-Za-z0-9+/]{42,43}=(?:;EntityPath=[!-:<-~]{1,100})?)"),
               0.95, specificity=STRUCTURED, trigger=r"(?i:AccountKey=|SharedAccessKey=)"),
    SecretType("AZURE_SAS_TOKEN",
               (r"(?:[?&\s\"'=]|^)sv=\d{4}-\d{2}-\d{2}&[A-Za-z0-9%&=_.\-:]{0,400}?sig=([A-Za-z0-9%+/]{40,100}={0,2})",),
               0.85),
    # Entra ID (Azure AD) client secrets carry "Q~" after a 3-character prefix and a digit.
    SecretType("AZURE_AD_CLIENT_SECRET",
               (r"(?:^|[\\'\"\x60\s>=:(,)])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:$|[\\'\"\x60\s<),])",),
               0.85, min_entropy=3.5, validator=v.looks_random),
    SecretType("DIGITALOCEAN_TOKEN", (r"\b(do[opr]_v1_[a-f0-9]{64})\b",)),
    SecretType("DATABRICKS_TOKEN", (r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b",), validator=v.hex_with_letters_and_digits),
    # ---- code hosting, CI and package registries ---------------------------------------------------
    SecretType("GITHUB_TOKEN",
               (r"\b(gh[pousr]_[A-Za-z0-9]{36})\b", r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b"),
               0.95, validator=v.valid_github_token),
    SecretType("GITLAB_TOKEN",
               (r"\b((?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50})(?:[^A-Za-z0-9_]|$)",
                r"\b(glpat-[A-Za-z0-9_\-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})\b",
                r"\b(GR1348941[A-Za-z0-9_\-]{20,50})(?:[^A-Za-z0-9_]|$)",
                r"\b(glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50})(?:[^A-Za-z0-9_]|$)",
                r"\b(glimt-[A-Za-z0-9_\-]{25})(?:[^A-Za-z0-9_]|$)",
                r"\b(glptt-[A-Za-z0-9_\-]{40})(?:[^A-Za-z0-9_]|$)",
                r"\b(glagent-[A-Za-z0-9_\-]{50,1000})(?:[^A-Za-z0-9_]|$)",
                r"\b(gloas-[A-Za-z0-9_\-]{64})(?:[^A-Za-z0-9_]|$)")),
    SecretType("NPM_TOKEN", (r"\b(npm_[A-Za-z0-9]{36})\b",
                             r"//[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?(?:/[!-~]{0,200}?)?/:_authToken=[ \t]{0,4}"
                             r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b")),
    SecretType("PYPI_TOKEN", (r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{70,1000})",
                              r"\b(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{70,1000})"), trigger=r"pypi-AgE"),
    SecretType("ARTIFACTORY_TOKEN",
               (r"\b(AKCp[A-Za-z0-9]{69})\b", r"\b(cmVmdGtu[A-Za-z0-9]{56})\b",
                # API keys and encrypted passwords as JFrog's clients print them (AKC…, AP[0-9A-F]…).
                r"(?:^|[\s=:\"])(AKC[A-Za-z0-9]{10,100}|AP[0-9A-F][A-Za-z0-9]{8,100})(?:[\s\"]|$)"),
               0.8, min_entropy=3.0, validator=v.looks_random),
    SecretType("SOURCEGRAPH_TOKEN", (r"\b(sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40})\b",
                                     r"\b(sgp_[a-fA-F0-9]{40})\b")),
    SecretType("SOURCEGRAPH_TOKEN", (r"(?:^|[^A-Za-z0-9])([a-fA-F0-9]{40})(?:[^A-Za-z0-9]|$)",), 0.8,
               keywords=("sourcegraph",), validator=v.hex_with_letters_and_digits, min_entropy=3.0),
    SecretType("HASHICORP_VAULT_TOKEN", (r"\b(hv[sb]\.[A-Za-z0-9_\-]{90,120})" + _R,)),
    SecretType("HASHICORP_VAULT_TOKEN", (r"\b(s\.[A-Za-z0-9]{24})\b",), 0.8, keywords=("vault", "token"),
               validator=v.looks_random, min_entropy=3.5),
    SecretType("GRAFANA_TOKEN", (r"\b(glc_[A-Za-z0-9+/]{32,400}={0,2})", r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b")),
    SecretType("SIDEKIQ_CREDENTIALS",
               (r"(?i:BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM)" + _ASSIGN + r"[\"']?([a-f0-9]{8}:[a-f0-9]{8})\b",)),
    # ---- chat, mail, payments, productivity ---------------------------------------------------------
    SecretType("SLACK_TOKEN", (r"\b(xox[bp]-\d{8,14}-\d{8,14}(?:-\d{8,14})?-[A-Za-z0-9]{24,34})\b",
                               r"\b(xoxe\.xox[bp]-\d-[A-Za-z0-9]{160,170})\b",
                               r"\b(xoxe-\d-[A-Za-z0-9]{140,150})\b",
                               r"\b(xapp-\d-[A-Za-z0-9]{9,12}-\d{10,16}-[a-f0-9]{32,80})\b",
                               r"\b(xox[aors]-\d{1,14}-\d{8,14}-\d{8,14}-[A-Za-z0-9]{8,64})\b")),
    SecretType("SLACK_WEBHOOK",
               (r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",)),
    # The first part is the bot's numeric ID in base64, so it starts with M, N or O (digits 1-9).
    SecretType("DISCORD_BOT_TOKEN",
               (_L + r"([MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})" + _R,),
               0.85, min_entropy=3.5),
    SecretType("TELEGRAM_BOT_TOKEN", (r"\b(\d{8,10}:[A-Za-z0-9_\-]{35})" + _R,), 0.85, min_entropy=3.5),
    SecretType("TWILIO_KEY", (r"\b(SK[0-9a-fA-F]{32})\b",), validator=v.hex_with_letters_and_digits),
    # An account SID is an identifier, half of the credential pair: reported, with a lower score.
    SecretType("TWILIO_KEY", (r"\b(AC[0-9a-fA-F]{32})\b",), 0.6, validator=v.hex_with_letters_and_digits),
    SecretType("TWILIO_KEY", (r"(?:^|[^A-Za-z0-9])([0-9a-f]{32})(?:[^A-Za-z0-9]|$)",), 0.8, keywords=("twilio",),
               validator=v.hex_with_letters_and_digits, min_entropy=3.0),
    SecretType("SENDGRID_KEY", (r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _R,)),
    SecretType("MAILCHIMP_KEY", (r"\b([0-9a-f]{32}-us\d{1,2})\b",), 0.85, validator=v.hex_with_letters_and_digits),
    SecretType("STRIPE_KEY", (r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,247})\b", r"\b(whsec_[A-Za-z0-9]{32,64})\b")),
    SecretType("SHOPIFY_TOKEN", (r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",)),
    SecretType("NOTION_TOKEN", (r"\b(ntn_\d{11}[A-Za-z0-9]{35})\b",), min_entropy=4.0),
    SecretType("ONEPASSWORD_TOKEN", (r"\b(ops_eyJ[A-Za-z0-9+/]{250}[A-Za-z0-9+/]*={0,3})",
                                     r"\b(A3-[A-Z0-9]{6}-[A-Z0-9]{5,6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b"),
               max_len=8192, trigger=r"\bops_eyJ|\bA3-[A-Z0-9]{6}-"),
    SecretType("AGE_SECRET_KEY", (r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",), 0.95),
    # ---- AI providers --------------------------------------------------------------------------------
    # "T3BlbkFJ" is base64 for "OpenAI": every OpenAI secret key carries it.
    SecretType("OPENAI_KEY",
               (r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,250}T3BlbkFJ[A-Za-z0-9_\-]{20,250})" + _R,),
               trigger=r"T3BlbkFJ"),
    SecretType("ANTHROPIC_KEY", (r"\b(sk-ant-(?:api|admin|oat|ort|sid)\d{2}-[A-Za-z0-9_\-]{80,120})" + _R,)),
    SecretType("HUGGINGFACE_TOKEN", (r"\b((?:hf_|api_org_)[A-Za-z]{34})\b",), validator=v.mixed_case, min_entropy=3.8),
    SecretType("PERPLEXITY_KEY", (r"\b(pplx-[A-Za-z0-9]{48})\b",)),
    SecretType("GROQ_KEY", (r"\b(gsk_[A-Za-z0-9]{52})\b",)),
    # ---- formats that are not a vendor's -----------------------------------------------------------
    SecretType("JWT", (r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{2,}(?:\.[A-Za-z0-9_\-]{8,})?)",), 0.85,
               validator=v.valid_jwt, max_len=16384, trigger=r"\beyJ[A-Za-z0-9_\-]{8,1000}\.eyJ",
               placeholder_check=False),
    SecretType("PRIVATE_KEY",
               # A whole block; "-" in the body only singly, so a match never runs into the next block.
               (r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\t\n\r -,.-~]|-[\t\n\r -,.-~])*"
                r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----",
                # A block cut off before its end line (truncated output, a paste) still leaks the key.
                r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\t\r\n ]|\\[nr])+"),
               0.95, validator=v.valid_pem_block, max_len=65536,
               trigger=r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY", placeholder_check=False),
    SecretType("DB_CONNECTION_STRING",
               (_url_password(r"postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|"
                              r"oracle|cockroachdb|clickhouse|couchdbs?|neo4j(?:\+s)?|bolt|cassandra|db2|snowflake|"
                              r"jdbc:[a-z0-9]{2,20}"),
                # ADO.NET / ODBC: Server=…;Database=…;User Id=…;Password=…;
                r"(?i:(?:server|data source|host|hostname|address|addr|network address|database|initial catalog|"
                r"uid|user id|user|username)[ \t]{0,4}=[!-:<-~ ]{1,100};(?:[!-:<-~ ]{0,100};){0,8}?[ \t]{0,4}"
                r"(?:password|pwd)[ \t]{0,4}=[ \t]{0,4})"
                r"(\"[ !#-~]{1,100}\"|'[ -&(-~]{1,100}'|[!#-&(-:<-~][!-:<-~]{0,99})",
                r"(?i:jdbc:[a-z0-9]{2,20}:[!-~]{0,300}?[?&;]password=)([A-Za-z0-9!#$%()*+,\-./:=?@\[\]^_{|}~]{1,100})"),
               0.9, validator=v.plausible_password, trigger=r"://[!-~]{0,210}@|(?i:password|pwd)[ \t]{0,4}="),
    SecretType("URL_PASSWORD", (_url_password(r"[a-z][a-z0-9+.\-]{1,30}"),), 0.8, validator=v.plausible_password,
               specificity=KEYWORD),
    SecretType("AUTH_HEADER",
               (r"(?i:\b(?:authorization|proxy-authorization|x-api-key|x-auth-token|x-access-token|private-token|"
                r"x-jfrog-art-api|api-key|x-apikey)[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?"
                r"(?:(?:bearer|token|basic|digest|apikey|api-key|key|sso-key)[ \t]{1,4})?)"
                r"([A-Za-z0-9+/=_\-.~]{8,1000})",),
               0.85, validator=v.plausible_secret, min_entropy=3.0, specificity=KEYWORD,
               trigger=r"(?i:authorization|x-api-key|x-auth-token|x-access-token|private-token|x-jfrog-art-api|"
                       r"api-key|x-apikey)[\"']?[ \t]{0,4}[:=]"),
    SecretType("CLI_PASSWORD",
               (r"\bcurl\b[\t !-~]{0,300}?[ \t](?:-u|--user)[ \t=]{1,4}[\"']?"
                r"[A-Za-z0-9._~%!&()*+,;=@\-]{1,100}:([A-Za-z0-9._~%!&()*+,;=@#^\-]{1,100})",),
               0.85, validator=v.plausible_password, specificity=KEYWORD, trigger=r"[ \t](?:-u|--user)[ \t=]"),
    SecretType("GENERIC_SECRET",
               (rf"(?i:[A-Za-z0-9_.\-]{{0,40}}(?:{_GENERIC_WORDS})[A-Za-z0-9_.\-]{{0,40}}){_ASSIGN}"
                r"(?:\"([!#-~]{10,200})\"|'([!-&(-~]{10,200})'|\x60([!-_a-~]{10,200})\x60|"
                rf"({_BARE}{{10,200}})(?:[\s\"',;\x60)\]}}]|$))",),
               0.7, validator=v.plausible_secret, min_entropy=3.0, context_check=v.secret_identifier,
               specificity=GENERIC),
)


# ---- compilation ------------------------------------------------------------------------------------

def _sre() -> Any:
    try:
        return importlib.import_module("re._parser")  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        return importlib.import_module("sre_parse")


def max_match_bytes(pattern: str) -> int | None:
    """Longest UTF-8 match ``pattern`` allows, or None when a repetition is unbounded.

    Used to size the confirmation window around a Hyperscan candidate. Parsed with Python's regex
    parser, which reads this subset of RE2 syntax the same way; RE2's ``\\d \\w \\s`` are ASCII.
    """
    sre = _sre()
    infinite = 1 << 62

    def width(items: Any) -> int:
        return min(infinite, sum(node(op, av) for op, av in items))

    def node(op: Any, av: Any) -> int:
        if op is sre.LITERAL:
            return len(chr(av).encode("utf-8", "surrogatepass"))
        if op in (sre.NOT_LITERAL, sre.ANY):
            return 4
        if op is sre.IN:
            wide = any(o is sre.NEGATE or (o is sre.RANGE and a[1] > 0x7F) or (o is sre.LITERAL and a > 0x7F)
                       or (o is sre.CATEGORY and "NOT" in str(a)) for o, a in av)
            return 4 if wide else 1
        if op is sre.CATEGORY:
            return 4 if "NOT" in str(av) else 1
        if op is sre.AT:
            return 0
        if op is sre.BRANCH:
            return max(width(b) for b in av[1])
        if op is sre.SUBPATTERN:
            return width(av[-1])
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _lo, hi, sub = av
            return infinite if hi >= sre.MAXREPEAT else min(infinite, hi * width(sub))
        raise ValueError(f"unsupported construct in secret pattern: {op}")

    total = width(sre.parse(pattern))
    return None if total >= infinite else total


@dataclass(frozen=True, slots=True)
class _Rule:
    row: SecretType
    regex: Any
    groups: int
    reach: int  # bytes a match may extend either side of a candidate offset
    keyword_regex: Any


def _compile_rules(catalogue: tuple[SecretType, ...]) -> list[_Rule]:
    rules = []
    for row in catalogue:
        kw = None
        if row.keywords:
            kw = compile_linear("|".join(_escape(k) for k in row.keywords), ignore_case=True)
        for pattern in row.patterns:
            regex = compile_linear(pattern)
            width = max_match_bytes(pattern)
            if width is None and row.max_len is None:
                raise ValueError(f"{row.name}: pattern has unbounded repetition and no max_len: {pattern!r}")
            reach = min(width, row.max_len) if width is not None and row.max_len else (width or row.max_len or 0)
            rules.append(_Rule(row, regex, regex.groups, reach + 8, kw))
    return rules


def _escape(literal: str) -> str:
    return "".join("\\" + c if not c.isalnum() else c for c in literal)


class _Scanner:
    """The compiled table: Hyperscan prefilter (when available) plus RE2 confirmation."""

    def __init__(self, catalogue: tuple[SecretType, ...], engine: str, placeholders: bool) -> None:
        if engine not in ("auto", "hyperscan", "re2"):
            raise ConfigurationError(f"unknown secrets engine {engine!r}: auto, hyperscan or re2")
        self.rules = _compile_rules(catalogue)
        self.placeholders = placeholders
        hs: Any = load_hyperscan() if engine != "re2" else None
        if engine == "hyperscan" and hs is None:
            raise ConfigurationError("secrets engine 'hyperscan' requested but the hyperscan module is not installed")
        self._set: HyperscanSet | None = None
        self.full_scan: list[int] = list(range(len(self.rules)))  # rules Hyperscan does not cover
        if hs is not None:
            # Exact where Hyperscan takes the expression, else its PREFILTER approximation (a superset,
            # which RE2 then confirms), else left to the whole-text RE2 pass.
            exprs = [(rule.row.trigger or rule.regex.pattern).encode("utf-8") for rule in self.rules]
            self._set = HyperscanSet.build(hs, exprs, list(range(len(exprs))),
                                           [(0, hs.HS_FLAG_PREFILTER)] * len(exprs))
            self.full_scan = sorted(self._set.left_out) if self._set is not None else self.full_scan

    @property
    def engine(self) -> str:
        return "hyperscan" if self._set is not None else "re2"

    # ---- scanning -------------------------------------------------------------------------------
    def scan(self, data: bytes) -> list[tuple[int, int, SecretType]]:
        """Confirmed, non-overlapping secrets in ``data`` as (byte start, byte end, row)."""
        found: list[tuple[int, int, SecretType]] = []
        windows = self._candidate_windows(data) if self._set is not None else None
        if windows is None:  # no Hyperscan, or too many candidates: every rule over the whole text
            windows = {i: [(0, len(data))] for i in range(len(self.rules))}
        else:
            for i in self.full_scan:
                windows[i] = [(0, len(data))]
        for i, spans in windows.items():
            rule = self.rules[i]
            for lo, hi in spans:
                for m in rule.regex.finditer(data, lo, hi):
                    span = self._confirm(rule, data, m)
                    if span is not None:
                        found.append((span[0], span[1], rule.row))
        return _resolve(found)

    def _candidate_windows(self, data: bytes) -> dict[int, list[tuple[int, int]]] | None:
        hits: list[tuple[int, int]] = []
        limit = 10_000 + len(data) // 32

        def on_match(rule_id: int, _start: int, end: int, _flags: int, _ctx: Any) -> bool:
            hits.append((rule_id, end))
            return len(hits) > limit

        assert self._set is not None
        if not self._set.scan(data, on_match):
            return None
        windows: dict[int, list[tuple[int, int]]] = {}
        n = len(data)
        for rule_id, end in hits:
            reach = self.rules[rule_id].reach
            lo, hi = max(0, end - reach), min(n, end + reach)
            spans = windows.setdefault(rule_id, [])
            if spans and lo <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
            else:
                spans.append((lo, hi))
        return windows

    def _confirm(self, rule: _Rule, data: bytes, m: Any) -> tuple[int, int] | None:
        start, end = m.span()
        for g in range(1, rule.groups + 1):
            gs, ge = m.span(g)
            if gs >= 0:
                start, end = gs, ge
                break
        row = rule.row
        if row.max_len is not None and end - start > row.max_len:
            return None
        value = data[start:end].decode("utf-8", "replace")
        if row.keywords and rule.keyword_regex.search(data, max(0, start - row.keyword_window), start) is None:
            return None
        if row.context_check is not None and not row.context_check(
                data[m.start():start].decode("utf-8", "replace")):
            return None
        lenient = self.placeholders and row.rank >= PREFIXED
        if not lenient:
            if row.placeholder_check and v.is_placeholder(value):
                return None
            if row.min_entropy is not None and v.shannon_entropy(value) < row.min_entropy:
                return None
        if row.validator is not None and not (lenient and row.validator in _RANDOMNESS_CHECKS) \
                and not row.validator(value):
            return None
        return start, end


# Validators that test "looks random" rather than structure; placeholders=True skips them like entropy.
_RANDOMNESS_CHECKS = (v.looks_random, v.mixed_case, v.hex_with_letters_and_digits)


def _resolve(found: list[tuple[int, int, SecretType]]) -> list[tuple[int, int, SecretType]]:
    """Keep the most specific of overlapping findings (then the longest, then the highest score)."""
    found.sort(key=lambda f: (-f[2].rank, -(f[1] - f[0]), -f[2].score, f[0]))
    starts: list[int] = []
    kept: list[tuple[int, int, SecretType]] = []  # sorted by start, non-overlapping
    for f in found:
        i = bisect_left(starts, f[0])
        if i > 0 and kept[i - 1][1] > f[0]:
            continue
        if i < len(kept) and kept[i][0] < f[1]:
            continue
        starts.insert(i, f[0])
        kept.insert(i, f)
    return kept


@lru_cache(maxsize=16)
def _scanner(catalogue: tuple[SecretType, ...], engine: str, placeholders: bool) -> _Scanner:
    return _Scanner(catalogue, engine, placeholders)


def _char_offsets(text: str, data: bytes, offsets: list[int]) -> dict[int, int]:
    """Byte offsets into ``data`` (``text`` as UTF-8) -> character offsets into ``text``, in one pass."""
    if len(data) == len(text):
        return {o: o for o in offsets}
    out: dict[int, int] = {}
    byte_pos = char_pos = 0
    for o in sorted(set(offsets)):
        char_pos += len(data[byte_pos:o].decode("utf-8", "surrogatepass"))
        byte_pos = o
        out[o] = char_pos
    return out


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def find_secrets(text: str, scanner: _Scanner) -> list[tuple[int, int, SecretType]]:
    """(start, end, row) in character offsets of ``text``."""
    data = _encode(text)
    spans = scanner.scan(data)
    if not spans:
        return []
    index = _char_offsets(text, data, [o for s, e, _ in spans for o in (s, e)])
    return [(index[s], index[e], row) for s, e, row in spans]


# ---- the two faces: ctxguard Detector and Presidio recognizer ---------------------------------------

class SecretsDetector:
    """The secrets table as a ctxguard Detector (no Presidio, no NLP: secrets need no NER).

    ``engine``: ``"auto"`` uses Hyperscan when importable and RE2 alone otherwise; ``"re2"`` forces
    the RE2-only path; ``"hyperscan"`` fails if the module is missing. ``placeholders=True`` also
    reports prefixed formats whose body is filler or low in entropy (``AKIAZZZZZZZZZZZZZZZZ``), for
    audits that want every credential-shaped string; checksums and structure are still checked, and
    keyword and generic rows keep all their filters. The default, for a firewall, reports only what
    could be live.
    """

    name = "secrets"

    def __init__(self, language: str = "en", catalogue: tuple[SecretType, ...] = CATALOGUE, *,
                 engine: str = "auto", placeholders: bool = False) -> None:
        self.language = language
        self._scanner = _scanner(catalogue, engine, placeholders)

    @property
    def engine(self) -> str:
        """``"hyperscan"`` or ``"re2"``: the path actually in use."""
        return self._scanner.engine

    def detect(self, text: str) -> list[Finding]:
        return [Finding(detector=f"secret:{row.name}", kind=f"secret:{row.name}", start=s, end=e, score=row.score)
                for s, e, row in find_secrets(text, self._scanner)]


def entity_names(catalogue: tuple[SecretType, ...] = CATALOGUE) -> list[str]:
    """Presidio entity names of the table, ``SECRET_<NAME>``, once each, in table order."""
    return list(dict.fromkeys(ENTITY_PREFIX + row.name for row in catalogue))


@lru_cache(maxsize=1)
def _recognizer_class() -> type:
    """Define the Presidio recognizer on first use: importing Presidio costs about a second."""
    from .offline import import_presidio_quietly

    import_presidio_quietly()
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class SecretsRecognizer(EntityRecognizer):
        """The whole secrets table as one Presidio recognizer, through the same fast path as the detector."""

        def __init__(self, language: str = "en", catalogue: tuple[SecretType, ...] = CATALOGUE, *,
                     engine: str = "auto", placeholders: bool = False) -> None:
            self._scanner = _scanner(catalogue, engine, placeholders)
            super().__init__(supported_entities=entity_names(catalogue), name="SecretsRecognizer",
                             supported_language=language)

        def load(self) -> None:
            """Nothing to load: the table is compiled when the recognizer is built."""

        def analyze(self, text: str, entities: list[str] | None, nlp_artifacts: Any = None) -> list[Any]:
            wanted = set(entities) if entities else None
            out = []
            for s, e, row in find_secrets(text, self._scanner):
                entity = ENTITY_PREFIX + row.name
                if wanted is not None and entity not in wanted:
                    continue
                out.append(RecognizerResult(
                    entity_type=entity, start=s, end=e, score=row.score,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: f"secret:{row.name}",
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
            return out

    return SecretsRecognizer


def __getattr__(name: str) -> Any:
    if name == "SecretsRecognizer":  # importable by name, still loaded lazily
        return _recognizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_recognizers(language: str = "en", catalogue: tuple[SecretType, ...] = CATALOGUE) -> list[Any]:
    """The secrets table for a Presidio ``RecognizerRegistry``: one recognizer for every ``SECRET_*`` entity."""
    return [_recognizer_class()(language, catalogue)]
