"""The secrets table: each format found where it is live, and not where it only looks alike.

Every example is synthetic. Random bodies come from a seeded generator and follow the vendor's
documented shape (length, alphabet, prefix); GitHub tokens get a correct checksum from the
validator's inverse. Nothing here is, or was, a real credential.
"""

from __future__ import annotations

import base64
import json
import random
import string
import threading
import urllib.parse

import pytest

from ctxguard._patterns import compile_linear
from ctxguard.decision import Finding
from ctxguard.detect import secrets as sec
from ctxguard.detect import validators as v
from ctxguard.detect.secrets import CATALOGUE, ENTITY_PREFIX, SecretsDetector, build_recognizers

RNG = random.Random(4242)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    """Random characters; re-drawn until they pass the filler test, as a real random token would."""
    while True:
        s = "".join(RNG.choice(alphabet) for _ in range(n))
        if not v.is_placeholder(s) and (n < 8 or v.looks_random(s)):
            return s


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def rbytes(n: int) -> bytes:
    return bytes(RNG.randrange(256) for _ in range(n))


def pem(label: str, n_bytes: int = 600) -> str:
    body = b64(rbytes(n_bytes))
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


DETECTOR = SecretsDetector()
RE2_ONLY = SecretsDetector(engine="re2")


def found(text: str, detector: SecretsDetector = DETECTOR) -> list[tuple[str, str]]:
    return [(f.kind.removeprefix("secret:"), text[f.start:f.end]) for f in detector.detect(text)]


# ---- synthetic credentials, one or more per format ------------------------------------------------
GH_BODY = rnd(30)
GITHUB = v.github_token("ghp_", GH_BODY)
AWS_ID = "AKIA" + rnd(16, BASE32)
AWS_SECRET = rnd(40, B64)
AZURE_KEY = b64(rbytes(64))
JWT = f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url({'sub': '1234', 'iat': 1700000000})}.{rnd(43, URLSAFE)}"
RSA_PEM = pem("RSA PRIVATE KEY")
GCP_PEM = pem("PRIVATE KEY", 900).replace("\n", "\\n") + "\\n"
DISCORD_ID = base64.b64encode(b"112233445566778899").decode().rstrip("=")
SAS_SIG = urllib.parse.quote(b64(rbytes(32)), safe="")
OPS_TOKEN = "ops_" + base64.b64encode(json.dumps(
    {"signInAddress": "my.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
     "iterations": 650000, "salt": rnd(22, URLSAFE)}, "email": "svc@1passwordserviceaccounts.com",
     "srpX": rnd(64, HEX), "muk": {"k": rnd(43, URLSAFE)}}).encode()).decode().rstrip("=")

TRUE_CASES: list[tuple[str, str, str]] = [
    # (kind, text, the secret the finding must cover exactly)
    ("AWS_ACCESS_KEY", f"aws_access_key_id = {AWS_ID}", AWS_ID),
    ("AWS_ACCESS_KEY", "documented example key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS_SECRET_KEY", f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET),
    ("AWS_SECRET_KEY", f"AWS credentials for the backup job, secret half: {AWS_SECRET}", AWS_SECRET),
    ("GCP_SERVICE_ACCOUNT_KEY", f'{{"private_key_id": "{rnd(40, HEX)}", "private_key": "{GCP_PEM}"}}', GCP_PEM),
    ("GCP_SERVICE_ACCOUNT_KEY", '{\n  "type": "service_account",\n  "project_id": "demo"\n}',
     '"type": "service_account"'),
    ("GCP_API_KEY", f"maps key AIza{rnd(35, URLSAFE)}", None),
    ("GCP_OAUTH_CLIENT_SECRET", f"client_secret: GOCSPX-{rnd(28, URLSAFE)}", None),
    ("AZURE_STORAGE_KEY", f"AccountKey={AZURE_KEY}", AZURE_KEY),
    ("AZURE_STORAGE_KEY", f"azure storage primary key: {AZURE_KEY}", AZURE_KEY),
    ("AZURE_CONNECTION_STRING", f"DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey={AZURE_KEY};"
                                "EndpointSuffix=core.windows.net", None),
    ("AZURE_CONNECTION_STRING", f"Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
                                f"SharedAccessKey={b64(rbytes(32))}", None),
    ("AZURE_SAS_TOKEN", "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r"
                        f"&se=2030-01-01T00:00:00Z&sig={SAS_SIG}", SAS_SIG),
    ("AZURE_AD_CLIENT_SECRET", f'client_secret = "{rnd(3)}8Q~{rnd(34, ALNUM + "_~.-")}"', None),
    ("DIGITALOCEAN_TOKEN", f"DO_TOKEN dop_v1_{rnd(64, HEX)}", None),
    ("DATABRICKS_TOKEN", f"databricks host token dapi{rnd(32, HEX)}", None),
    ("GITHUB_TOKEN", f"push with {GITHUB} please", GITHUB),
    ("GITHUB_TOKEN", v.github_token("gho_", rnd(30)), None),
    ("GITHUB_TOKEN", v.github_token("ghs_", rnd(30)), None),
    ("GITHUB_TOKEN", f"github_pat_{rnd(22)}_{rnd(59)}", None),
    ("GITLAB_TOKEN", f"glpat-{rnd(20, URLSAFE)}", None),
    ("GITLAB_TOKEN", f"gldt-{rnd(20, URLSAFE)}", None),
    ("GITLAB_TOKEN", f"GR1348941{rnd(20, URLSAFE)}", None),
    ("GITLAB_TOKEN", f"glptt-{rnd(40, HEX)}", None),
    ("GITLAB_TOKEN", f"glpat-{rnd(40, URLSAFE)}.01.{rnd(7, string.ascii_lowercase + string.digits)}", None),
    ("NPM_TOKEN", f"npm_{rnd(36)}", None),
    ("NPM_TOKEN", "//registry.npmjs.org/:_authToken=346a14f2-a672-4668-a892-956a462ab56e",
     "346a14f2-a672-4668-a892-956a462ab56e"),
    ("PYPI_TOKEN", f"pypi-AgEIcHlwaS5vcmc{rnd(150, URLSAFE)}", None),
    ("ARTIFACTORY_TOKEN", f"AKCp{rnd(69)}", None),
    ("ARTIFACTORY_TOKEN", f"cmVmdGtu{rnd(56)}", None),
    ("ARTIFACTORY_TOKEN", f"X-JFrog-Art-Api: AP6{rnd(20)}", None),
    ("SOURCEGRAPH_TOKEN", f"sgp_{rnd(16, HEX)}_{rnd(40, HEX)}", None),
    ("SOURCEGRAPH_TOKEN", f"sourcegraph access token: {rnd(40, HEX)}", None),
    ("HASHICORP_VAULT_TOKEN", f"hvs.{rnd(95, URLSAFE)}", None),
    ("HASHICORP_VAULT_TOKEN", f"VAULT_TOKEN=s.{rnd(24)}", None),
    ("GRAFANA_TOKEN", f"glc_{b64(rbytes(60))}", None),
    ("GRAFANA_TOKEN", f"glsa_{rnd(32)}_{rnd(8, HEX)}", None),
    ("SIDEKIQ_CREDENTIALS", f"BUNDLE_GEMS__CONTRIBSYS__COM={rnd(8, HEX)}:{rnd(8, HEX)}", None),
    ("SLACK_TOKEN", f"xoxb-{rnd(10, string.digits)}-{rnd(13, string.digits)}-{rnd(24)}", None),
    ("SLACK_TOKEN", f"xoxp-{rnd(10, string.digits)}-{rnd(10, string.digits)}-{rnd(13, string.digits)}-{rnd(32, HEX)}",
     None),
    ("SLACK_TOKEN",
     f"xapp-1-A{rnd(10, string.ascii_uppercase + string.digits)}-{rnd(13, string.digits)}-{rnd(64, HEX)}", None),
    ("SLACK_WEBHOOK", f"https://hooks.slack.com/services/T{rnd(8, BASE32)}/B{rnd(8, BASE32)}/{rnd(24)}", None),
    ("DISCORD_BOT_TOKEN", f"DISCORD={DISCORD_ID}.{rnd(6, URLSAFE)}.{rnd(27, URLSAFE)}", None),
    ("TELEGRAM_BOT_TOKEN", f"bot token {RNG.randrange(10**8, 10**10)}:AA{rnd(33, URLSAFE)}", None),
    ("TWILIO_KEY", f"SK{rnd(32, HEX)}", None),
    ("TWILIO_KEY", f"AC{rnd(32, HEX)}", None),
    ("TWILIO_KEY", f"TWILIO_AUTH_TOKEN={rnd(32, HEX)}", None),
    ("SENDGRID_KEY", f"SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}", None),
    ("MAILCHIMP_KEY", f"{rnd(32, HEX)}-us12", None),
    ("STRIPE_KEY", f"sk_live_{rnd(24)}", None),
    ("STRIPE_KEY", f"rk_test_{rnd(99)}", None),
    ("STRIPE_KEY", f"whsec_{rnd(32)}", None),
    ("SHOPIFY_TOKEN", f"shpat_{rnd(32, HEX)}", None),
    ("NOTION_TOKEN", f"ntn_{rnd(11, string.digits)}{rnd(35)}", None),
    ("ONEPASSWORD_TOKEN", f"OP_SERVICE_ACCOUNT_TOKEN={OPS_TOKEN}", OPS_TOKEN),
    ("ONEPASSWORD_TOKEN", f"A3-{rnd(6, BASE32)}-{rnd(6, BASE32)}-{rnd(5, BASE32)}-{rnd(5, BASE32)}-{rnd(5, BASE32)}-"
                          f"{rnd(5, BASE32)}", None),
    ("AGE_SECRET_KEY", f"AGE-SECRET-KEY-1{rnd(58, BECH32)}", None),
    ("OPENAI_KEY", f"sk-proj-{rnd(40, URLSAFE)}T3BlbkFJ{rnd(40, URLSAFE)}", None),
    ("OPENAI_KEY", f"sk-{rnd(20)}T3BlbkFJ{rnd(20)}", None),
    ("ANTHROPIC_KEY", f"sk-ant-api03-{rnd(93, URLSAFE)}AA", None),
    ("HUGGINGFACE_TOKEN", f"hf_{rnd(34, string.ascii_letters)}", None),
    ("PERPLEXITY_KEY", f"pplx-{rnd(48)}", None),
    ("GROQ_KEY", f"gsk_{rnd(52)}", None),
    ("JWT", f"Authorization: Bearer {JWT}", JWT),
    ("JWT", JWT.rsplit(".", 1)[0], None),
    ("PRIVATE_KEY", f"here it is:\n{RSA_PEM}\nbye", RSA_PEM),
    ("PRIVATE_KEY", pem("OPENSSH PRIVATE KEY"), None),
    ("PRIVATE_KEY", pem("PGP PRIVATE KEY BLOCK", 200), None),
    ("PRIVATE_KEY", RSA_PEM.split("-----END")[0].rstrip(), None),  # truncated: no end line
    ("DB_CONNECTION_STRING", "DATABASE_URL=postgres://app:S3cr3t-pa55@db.internal:5432/app", "S3cr3t-pa55"),
    ("DB_CONNECTION_STRING", "mongodb+srv://svc:Pq7zLm2x@cluster0.example.mongodb.net/db", "Pq7zLm2x"),
    ("DB_CONNECTION_STRING", "Server=tcp:db.example.net,1433;Database=app;User Id=app;Password=Xk9#mP2q!zz;",
     "Xk9#mP2q!zz"),
    ("DB_CONNECTION_STRING", "jdbc:postgresql://db:5432/app?user=app&password=Xk9mP2qzz1", "Xk9mP2qzz1"),
    ("URL_PASSWORD", "git clone https://deploy:hunter22@git.example.com/repo.git", "hunter22"),
    ("AUTH_HEADER", f'curl -H "Authorization: Bearer {rnd(40)}" https://api.example.com', None),
    ("AUTH_HEADER", "Authorization: Basic dXNlcjpzM2NyM3Q=", "dXNlcjpzM2NyM3Q="),
    ("AUTH_HEADER", "curl --header 'Authorization:  5eb4223e-5008-46e5-be67-c7b8f2732305'",
     "5eb4223e-5008-46e5-be67-c7b8f2732305"),
    ("CLI_PASSWORD", "curl -u admin:Zq8!vR2p https://api.example.com", "Zq8!vR2p"),
    ("GENERIC_SECRET", f'api_key = "{rnd(32)}"', None),
    ("GENERIC_SECRET", "DB_PASSWORD=Xk9mP2qR7vLw", "Xk9mP2qR7vLw"),
    ("GENERIC_SECRET", f"client_secret: {rnd(24, URLSAFE)}", None),
    ("GENERIC_SECRET", f'{{"apiKey": "{rnd(28)}"}}', None),
]

FALSE_CASES: list[tuple[str, str]] = [
    # (the format it nearly is, text that must yield no finding at all)
    ("AWS_ACCESS_KEY", "AKIA" + rnd(15, BASE32)),
    ("AWS_ACCESS_KEY", "akia" + rnd(16, BASE32).lower()),
    ("AWS_ACCESS_KEY", "AKIAZZZZZZZZZZZZZZZZ"),
    ("AWS_SECRET_KEY", f"the build hash is {AWS_SECRET} for this release"),
    ("AWS_SECRET_KEY", f"aws commit {rnd(40, HEX)}"),
    ("GCP_SERVICE_ACCOUNT_KEY", '{"type": "authorized_user"}'),
    ("GCP_SERVICE_ACCOUNT_KEY",
     '{"private_key": "-----BEGIN PRIVATE KEY-----\\nanything\\n-----END PRIVATE KEY-----\\n"}'),
    ("GCP_API_KEY", f"AIza{rnd(30, URLSAFE)}"),
    ("GCP_OAUTH_CLIENT_SECRET", "GOCSPX-" + "x" * 28),
    ("AZURE_STORAGE_KEY", "AccountKey=" + "A" * 86 + "=="),
    ("AZURE_STORAGE_KEY", f"sha512 digest {AZURE_KEY}"),
    ("AZURE_CONNECTION_STRING", "DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey=<your-account-key>"),
    ("AZURE_SAS_TOKEN", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=abc"),
    ("AZURE_AD_CLIENT_SECRET", "client_secret=bP88Q~" + "x" * 34),
    ("DIGITALOCEAN_TOKEN", f"dop_v1_{rnd(63, HEX)}"),
    ("DATABRICKS_TOKEN", "DATABRICKS_TOKEN=dapi" + "0123456789abcdef" * 2),
    ("GITHUB_TOKEN", GITHUB[:-1] + ("A" if GITHUB[-1] != "A" else "B")),  # checksum broken
    ("GITHUB_TOKEN", "ghp_" + rnd(35)),
    ("GITHUB_TOKEN", "ghp_" + "x" * 36),
    ("GITLAB_TOKEN", f"glpat-{rnd(19, URLSAFE)}"),
    ("GITLAB_TOKEN", "glpat-hellOWorld380 testin"),
    ("GITLAB_TOKEN", "glpat-XXXXXXXXXXX-XXXXXXXX"),
    ("NPM_TOKEN", f"npm_{rnd(35)}"),
    ("NPM_TOKEN", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"),
    ("PYPI_TOKEN", f"pypi-AgEIcHlwaS5vcmc{rnd(60, URLSAFE)}"),
    ("ARTIFACTORY_TOKEN", "AKCp" + "X" * 69),
    ("ARTIFACTORY_TOKEN", "testAKCwithinsomeirrelevantstring"),
    ("ARTIFACTORY_TOKEN", "X-JFrog-Art-Api: $API_KEY"),
    ("SOURCEGRAPH_TOKEN", f"merged in commit {rnd(40, HEX)}"),
    ("HASHICORP_VAULT_TOKEN", f"see s.{rnd(24)} in the changelog"),
    ("GRAFANA_TOKEN", "glc_" + "1" * 42 + "="),
    ("SIDEKIQ_CREDENTIALS", "BUNDLE_GEMS__CONTRIBSYS__COM=${SIDEKIQ_CREDS}"),
    ("SLACK_TOKEN", "xoxb-12345-abcd234"),
    ("SLACK_TOKEN", "xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx"),
    ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000/short"),
    ("DISCORD_BOT_TOKEN", f"P{rnd(23, URLSAFE)}.{rnd(6, URLSAFE)}.{rnd(27, URLSAFE)}"),
    ("DISCORD_BOT_TOKEN", f"{DISCORD_ID}.{rnd(5, URLSAFE)}.{rnd(27, URLSAFE)}"),
    ("TELEGRAM_BOT_TOKEN", f"bot123456789:AA{rnd(33, URLSAFE)}"),
    ("TWILIO_KEY", "SK" + "x" * 32),
    ("TWILIO_KEY", f"md5 of the file: {rnd(32, HEX)}"),
    ("SENDGRID_KEY", f"SG.{rnd(22, URLSAFE)}..{rnd(43, URLSAFE)}"),
    ("MAILCHIMP_KEY", f"{rnd(32, HEX).upper()}-us2"),
    ("MAILCHIMP_KEY", f"{rnd(32, HEX)}-2"),
    ("STRIPE_KEY", f"pk_live_{rnd(24)}"),  # publishable keys are public by design
    ("STRIPE_KEY", "sk_live_"),
    ("SHOPIFY_TOKEN", f"shpat_{rnd(31, HEX)}"),
    ("NOTION_TOKEN", "ntn_12345678901"),
    ("ONEPASSWORD_TOKEN", "export OP_SERVICE_ACCOUNT_TOKEN=ops_eyJzaWduSW5BZGRyZXNzIjoiaHR0cHM6..."),
    ("AGE_SECRET_KEY", f"AGE-SECRET-KEY-1{rnd(57, BECH32)}"),
    ("OPENAI_KEY", f"sk-proj-{rnd(40, URLSAFE)}T4BlbkFJ{rnd(40, URLSAFE)}"),
    ("ANTHROPIC_KEY", f"sk-ant-api03-{rnd(40, URLSAFE)}"),
    ("HUGGINGFACE_TOKEN", "- (id)hf_requiredCharacteristicTypesForDisplayMetadata;"),
    ("HUGGINGFACE_TOKEN", "hf_" + "x" * 34),
    ("PERPLEXITY_KEY", "PERPLEXITY_API_KEY=pplx-" + "x" * 48),
    ("GROQ_KEY", f"gsk_{rnd(51)}"),
    ("JWT", f"{b64url({'typ': 'JWT'})}.{b64url({'sub': '1'})}.{rnd(43, URLSAFE)}"),  # no "alg"
    ("JWT", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"),
    ("JWT", "eyJhbasdGciOiJIUaddasdasfsasdasdzI1NiIasdsInR5cCI6IkpXVCasdJasd9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefgh"),
    ("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----"),
    ("PRIVATE_KEY", "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----"),
    ("PRIVATE_KEY", pem("PUBLIC KEY")),
    ("DB_CONNECTION_STRING", "postgres://app:${DB_PASSWORD}@db/app"),
    ("DB_CONNECTION_STRING", "Server=db;Database=app;User Id=app;Password=********;"),
    ("DB_CONNECTION_STRING", "postgres://localhost:5432/app"),
    ("URL_PASSWORD", "https://example.com:8080/path"),
    ("URL_PASSWORD", "see https://url:8000 @someone else"),
    ("URL_PASSWORD", "https://user:***@host.example.com"),
    ("AUTH_HEADER", 'curl -H "Authorization: Bearer <Openverse API token>"'),
    ("AUTH_HEADER", 'curl -H "Authorization: Bearer ${TOKEN}"'),
    ("AUTH_HEADER", 'curl -H "Authorization: Token **********"'),
    ("CLI_PASSWORD", 'curl -u "${username}:${password}" https://api.example.com'),
    ("CLI_PASSWORD", 'curl --user "xxx:yyy" https://api.example.com'),
    ("GENERIC_SECRET", 'api_key = "changeme"'),
    ("GENERIC_SECRET", 'api_key = "xxxxxxxxxxxxxxxx"'),
    ("GENERIC_SECRET", 'api_key = "<YOUR_KEY>"'),
    ("GENERIC_SECRET", 'API_KEY = "YOUR_API_KEY_HERE"'),
    ("GENERIC_SECRET", 'password = "${DB_PASSWORD}"'),
    ("GENERIC_SECRET", 'password = "insert_password_here"'),
    ("GENERIC_SECRET", "Set your api key in the settings page, then paste the token into the password field."),
    ("GENERIC_SECRET", 'token_url = "https://auth.example.com/oauth/token"'),
    ("GENERIC_SECRET", "credentialsId: 'ff083f76-7804-4ef1-80e4-fe975bb9141b'"),
    ("GENERIC_SECRET", f'public_key = "{rnd(43)}"'),
    ("GENERIC_SECRET", "secret_length = X25519.secret_length"),
    ("GENERIC_SECRET", f"csrf-token={b64(rbytes(64))}"),
    ("GENERIC_SECRET", "GITHUB_API_KEY=\nDYNATRACE_API_KEY="),
    ("GENERIC_SECRET", "PuttyPassword=0"),
]


@pytest.mark.parametrize(("kind", "text", "secret"), TRUE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(TRUE_CASES)])
def test_synthetic_credential_is_found_with_its_exact_span(kind: str, text: str, secret: str | None) -> None:
    hits = found(text)
    assert [k for k, _ in hits] == [kind], hits
    if secret is not None:
        assert hits[0][1] == secret


@pytest.mark.parametrize(("kind", "text"), FALSE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(FALSE_CASES)])
def test_near_miss_is_not_reported(kind: str, text: str) -> None:
    assert found(text) == []


def test_every_secret_type_has_true_and_false_examples() -> None:
    names = {row.name for row in CATALOGUE}
    assert names <= {k for k, _, _ in TRUE_CASES}
    assert names <= {k for k, _ in FALSE_CASES}


@pytest.mark.parametrize("kind, text, secret", TRUE_CASES[:: 3])
def test_re2_only_path_finds_the_same(kind: str, text: str, secret: str | None) -> None:
    assert found(text, RE2_ONLY) == found(text)


def test_both_engines_agree_on_a_document_mixing_every_example() -> None:
    doc = "\n\n".join(t for _, t, _ in TRUE_CASES) + "\n" + "\n".join(t for _, t in FALSE_CASES)
    hs = DETECTOR.detect(doc)
    assert hs == RE2_ONLY.detect(doc)
    assert {f.kind.removeprefix("secret:") for f in hs} == {k for k, _, _ in TRUE_CASES}, found(doc)


# ---- the table itself ------------------------------------------------------------------------------

@pytest.mark.parametrize("row", CATALOGUE, ids=[r.name for r in CATALOGUE])
def test_every_pattern_compiles_under_re2_and_is_bounded(row: sec.SecretType) -> None:
    """RE2 accepting a pattern is what guarantees linear time; the bound sizes the prefilter window."""
    for pattern in row.patterns:
        compile_linear(pattern)
        assert sec.max_match_bytes(pattern) is not None or row.max_len is not None, pattern
    if row.trigger:
        compile_linear(row.trigger)


def test_hyperscan_covers_the_whole_table_when_installed() -> None:
    pytest.importorskip("hyperscan")
    assert DETECTOR.engine == "hyperscan"
    assert DETECTOR._scanner.full_scan == []


def test_without_hyperscan_the_detector_falls_back_to_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sec, "load_hyperscan", lambda: None)
    scanner = sec._Scanner(CATALOGUE, "auto", False)
    assert scanner.engine == "re2"
    text = f"key {GITHUB} and {AWS_ID}"
    assert sec.find_secrets(text, scanner) == sec.find_secrets(text, DETECTOR._scanner)
    with pytest.raises(Exception, match="hyperscan"):
        sec._Scanner(CATALOGUE, "hyperscan", False)


def test_finding_names_the_secret_type_and_never_holds_the_value() -> None:
    [f] = DETECTOR.detect(f"token {GITHUB}")
    assert f == Finding(detector="secret:GITHUB_TOKEN", kind="secret:GITHUB_TOKEN", start=6, end=6 + len(GITHUB),
                        score=0.95)
    assert GITHUB not in repr(f)


# ---- overlaps: the most specific wins ----------------------------------------------------------------

def test_prefixed_token_in_a_generic_assignment_is_reported_once_as_its_vendor() -> None:
    assert found(f'token = "{GITHUB}"') == [("GITHUB_TOKEN", GITHUB)]


def test_jwt_in_an_authorization_header_is_reported_as_jwt() -> None:
    assert found(f"Authorization: Bearer {JWT}") == [("JWT", JWT)]


def test_connection_string_is_reported_whole_not_as_its_account_key() -> None:
    text = f"DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net"
    assert found(text) == [("AZURE_CONNECTION_STRING", text)]


def test_service_account_json_reports_the_key_and_the_marker_not_a_bare_private_key() -> None:
    text = f'{{"type": "service_account", "private_key_id": "abc", "private_key": "{GCP_PEM}"}}'
    assert [k for k, _ in found(text)] == ["GCP_SERVICE_ACCOUNT_KEY", "GCP_SERVICE_ACCOUNT_KEY"]


def test_database_url_is_more_specific_than_any_url_password() -> None:
    assert found("redis://:Zk2pQ9xWm@cache:6379/0") == [("DB_CONNECTION_STRING", "Zk2pQ9xWm")]


# ---- offsets, threads, modes -------------------------------------------------------------------------

def test_spans_are_character_offsets_in_non_ascii_text() -> None:
    text = f"Schlüssel für 🚀 Deploy: {AWS_ID} — und {GITHUB} ✓"
    assert found(text) == [("AWS_ACCESS_KEY", AWS_ID), ("GITHUB_TOKEN", GITHUB)]


def test_lone_surrogates_do_not_break_detection() -> None:
    text = f"\ud800 broken json then {AWS_ID}"
    assert found(text) == [("AWS_ACCESS_KEY", AWS_ID)]


def test_concurrent_detection_from_many_threads_gives_the_same_answer() -> None:
    doc = "\n".join(t for _, t, _ in TRUE_CASES)
    expected = DETECTOR.detect(doc)
    results: list[list[Finding]] = []

    def work() -> None:
        for _ in range(5):
            results.append(DETECTOR.detect(doc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40 and all(r == expected for r in results)


def test_placeholder_mode_reports_filler_bodies_of_known_formats() -> None:
    audit = SecretsDetector(placeholders=True)
    assert found("AKIAZZZZZZZZZZZZZZZZ", audit) == [("AWS_ACCESS_KEY", "AKIAZZZZZZZZZZZZZZZZ")]
    assert found("AKIAZZZZZZZZZZZZZZZZ") == []
    # Checksums still hold: a broken GitHub token is not a token in either mode.
    assert found("ghp_" + "x" * 36, audit) == []
    # Keyword and generic rows keep their filters.
    assert found('api_key = "xxxxxxxxxxxxxxxx"', audit) == []


def test_empty_and_plain_prose_yield_nothing() -> None:
    assert DETECTOR.detect("") == []
    prose = ("The secrets module generates cryptographically strong random numbers suitable for managing "
             "data such as passwords, account authentication, security tokens, and related secrets. ") * 50
    assert DETECTOR.detect(prose) == []


# ---- hostile input: near-matches by the megabyte ------------------------------------------------------

HOSTILE = {
    "aws_prefix_one_short": ("AKIA" + "B" * 15 + " "),
    "aws_prefix_run": "AKIA",
    "github_one_short": "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h " ,
    "generic_assignments": "api_key=",
    "generic_assignment_filler": 'password = "xxxxxxxxxxxxxxxxxxxx"\n',
    "pem_headers": "-----BEGIN PRIVATE KEY-----\n",
    "jwt_heads": "eyJhbGciOiJIUzI1NiJ9.eyJ",
    "url_userinfo": "https://a:b",
    "base64_blob": "QUJD",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("engine", ["auto", "re2"])
def test_a_megabyte_of_near_matches_completes_with_no_findings(name: str, engine: str) -> None:
    unit = HOSTILE[name]
    text = unit * (1_000_000 // len(unit))
    detector = DETECTOR if engine == "auto" else RE2_ONLY
    assert detector.detect(text) == []


def test_a_megabyte_of_real_tokens_reports_every_one() -> None:
    tokens = [f"AKIA{rnd(16, BASE32)}" for _ in range(200)]
    text = " ".join(tokens * (1_000_000 // (21 * 200)))
    findings = DETECTOR.detect(text)
    assert len(findings) == text.count("AKIA")
    assert findings == RE2_ONLY.detect(text)


# ---- validators ----------------------------------------------------------------------------------------

def test_github_checksum_round_trips_and_rejects_any_changed_character() -> None:
    assert v.valid_github_token(GITHUB)
    for i in range(4, len(GITHUB)):
        c = "0" if GITHUB[i] != "0" else "1"
        assert not v.valid_github_token(GITHUB[:i] + c + GITHUB[i + 1:])


def test_entropy_is_zero_for_one_symbol_and_log2_n_for_distinct_symbols() -> None:
    assert v.shannon_entropy("aaaa") == 0.0
    assert v.shannon_entropy("abcd") == 2.0
    assert v.shannon_entropy("") == 0.0


def test_placeholder_rules() -> None:
    for s in ("xxxxxxxx", "12312312312312", "0123456789", "${TOKEN}", "abc...", "<token>", "yyy"):
        assert v.is_placeholder(s), s
    for _ in range(200):
        assert not v.is_placeholder("".join(RNG.choice(ALNUM) for _ in range(40)))


def test_identifier_rules_for_generic_assignments() -> None:
    assert v.identifier_words("awsSecretAccessKey") == ["aws", "secret", "access", "key"]
    assert v.identifier_words("APIKey_v2") == ["api", "key", "v2"]
    for ok in ("api_key = ", "DB_PASSWORD=", '"clientSecret": "', "export GITHUB_TOKEN="):
        assert v.secret_identifier(ok), ok
    for bad in ("token_url = ", "credentialsId: ", "public_key = ", "csrf-token=", "secret_length = ", "tokenizer="):
        assert not v.secret_identifier(bad), bad


# ---- Presidio --------------------------------------------------------------------------------------------

def test_one_presidio_recognizer_covers_every_secret_entity() -> None:
    from presidio_analyzer import RecognizerRegistry

    [rec] = build_recognizers()
    assert rec.supported_entities == list(dict.fromkeys(ENTITY_PREFIX + r.name for r in CATALOGUE))
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(rec)
    assert rec in registry.get_recognizers(language="en", entities=["SECRET_GITHUB_TOKEN"])

    text = f"deploy with {GITHUB} and {AWS_ID}"
    results = rec.analyze(text, entities=rec.supported_entities, nlp_artifacts=None)
    assert [(r.entity_type, text[r.start:r.end]) for r in results] == [
        ("SECRET_GITHUB_TOKEN", GITHUB), ("SECRET_AWS_ACCESS_KEY", AWS_ID)]
    assert results[0].recognition_metadata["recognizer_name"] == "secret:GITHUB_TOKEN"
    only_aws = rec.analyze(text, entities=["SECRET_AWS_ACCESS_KEY"], nlp_artifacts=None)
    assert [r.entity_type for r in only_aws] == ["SECRET_AWS_ACCESS_KEY"]


def test_secrets_recognizer_class_is_importable_by_name() -> None:
    from ctxguard.detect.secrets import SecretsRecognizer  # type: ignore[attr-defined]

    assert isinstance(build_recognizers()[0], SecretsRecognizer)


def test_secrets_and_pii_prefilters_are_one_shared_hyperscan_component() -> None:
    """Both detectors' Hyperscan pass is ctxguard.detect.hyperscan_set.HyperscanSet (one compile
    with per-expression fallback, one scratch per thread)."""
    pytest.importorskip("hyperscan")
    from ctxguard.detect.hyperscan_set import HyperscanSet
    from ctxguard.detect.pii_fast import FastPiiDetector

    pii = FastPiiDetector(model="en_core_web_sm", entities=["EMAIL_ADDRESS", "CREDIT_CARD"])
    assert [f.kind for f in pii.detect("write to jane.doe@example.com")] == ["pii:EMAIL_ADDRESS"]  # built on use
    assert isinstance(DETECTOR._scanner._set, HyperscanSet)
    assert isinstance(pii._prefilter._set, HyperscanSet)  # type: ignore[union-attr]
