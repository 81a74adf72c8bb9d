"""Specification tests for the policy language: safe defaults, precise errors, and the runtime lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxguard import Action, Direction, Policy, PolicyError, PolicyModel, Strategy, ToolClass

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as exc:
        Policy.from_yaml(text, source="p.yaml")
    return [(p.line, p.path, p.message) for p in exc.value.problems]


# --- the default policy ------------------------------------------------------------------------------


def test_default_policy_validates_and_enforces_and_fails_closed() -> None:
    p = Policy.default()
    assert p.enforce is True
    assert p.fail_open is False
    assert p.model.mode == "enforce"
    assert p.model.on_error == "block"


def test_default_policy_treats_unknown_sources_as_untrusted() -> None:
    p = Policy.default()
    assert p.trust_for_source("carrier_pigeon") == "untrusted"
    assert p.trust_for_source("tool:web_search") == "untrusted"
    assert p.trust_for_source("user") == "user"


def test_default_policy_treats_unknown_tools_as_side_effect_tools() -> None:
    assert Policy.default().tool("launch_rockets").cls is ToolClass.SIDE_EFFECT


def test_default_policy_never_lets_a_secret_into_a_tool() -> None:
    strategy, rule = Policy.default().strategy("SECRET:AWS_ACCESS_KEY", Direction.INTO_TOOL)
    assert strategy is Strategy.BLOCK
    assert rule == "redaction.entities.SECRET.into_tool"


def test_empty_yaml_document_is_the_default_policy() -> None:
    assert Policy.from_yaml("").model == PolicyModel()
    assert Policy.from_yaml("# only a comment\n").model == PolicyModel()


# --- errors with line numbers and field paths ----------------------------------------------------------

BROKEN = """\
version: 1
mode: enforse
trust:
  levels: [system, user, external, untrusted, hostile]
  sources:
    "tool:*": untrustd
tools:
  tools:
    send_email:
      class: egres
      colour: red
redaction:
  entities:
    EMAIL_ADDRESS: scramble
budgets:
  sources:
    "tool:*": {max_tokens: -5}
"""


def test_cross_section_problems_are_reported_together_with_field_problems() -> None:
    text = "mode: enforse\ntools:\n  on_value_from: {sketchy: block}\n"
    got = {(line, path) for line, path, _ in _problems(text)}
    assert got == {(1, "mode"), (3, "tools.on_value_from.sketchy")}


def test_own_trust_levels_drop_built_in_entries_for_undeclared_levels_and_keep_injected_values_blocked() -> None:
    p = Policy.from_yaml(
        "trust:\n  levels: [me, them, bad]\n  default: them\n  flagged: bad\n  sources: {user: me}\n"
        "detection: {injection: {scan_at_or_below: them}}\n"
    )
    assert dict(p.model.trust.sources) == {"user": "me"}
    assert p.on_value_from("send_email", "bad") is Action.BLOCK
    assert p.on_value_from("send_email", "them") is Action.ALLOW


def test_own_trust_levels_without_the_defaults_say_which_settings_to_add() -> None:
    messages = {path: msg for _, path, msg in _problems("trust:\n  levels: [me, them]\n")}
    assert "set it to one of ['me', 'them']" in messages["detection.injection.scan_at_or_below"]
    assert "set this too" in messages["trust.default"]


def test_broken_policy_reports_every_problem_at_its_line_and_field_path() -> None:
    got = {(line, path) for line, path, _ in _problems(BROKEN)}
    assert got == {
        (2, "mode"),
        (6, "trust.sources.tool:*"),
        (10, "tools.tools.send_email.class"),
        (11, "tools.tools.send_email.colour"),
        (14, "redaction.entities.EMAIL_ADDRESS"),
        (17, "budgets.sources.tool:*.max_tokens"),
    }


def test_broken_policy_messages_say_what_is_wrong_and_name_the_source_file() -> None:
    with pytest.raises(PolicyError) as exc:
        Policy.from_yaml(BROKEN, source="p.yaml")
    text = str(exc.value)
    assert "6 problems" in text
    assert "p.yaml:2:" in text
    assert "unknown trust level 'untrustd'" in text
    assert "unknown strategy 'scramble'" in text
    assert all(p.source == "p.yaml" for p in exc.value.problems)
    # Sorted by position, so the author reads them top to bottom.
    lines = [p.line or 0 for p in exc.value.problems]
    assert lines == sorted(lines)


def test_unknown_top_level_key_is_rejected_at_its_line() -> None:
    assert _problems("mode: enforce\non_eror: allow\n") == [(2, "on_eror", "Extra inputs are not permitted")]


def test_misspelt_nested_key_is_rejected_with_its_path() -> None:
    text = "tools:\n  tools:\n    send_email:\n      args:\n        to: {max_lenght: 100}\n"
    [(line, path, _)] = _problems(text)
    assert (line, path) == (5, "tools.tools.send_email.args.to.max_lenght")


def test_duplicate_keys_are_rejected_rather_than_silently_shadowed() -> None:
    text = "tools:\n  tools:\n    rm:\n      class: egress\n      class: read_only\n"
    [(line, path, message)] = _problems(text)
    assert (line, path) == (5, "tools.tools.rm.class")
    assert "duplicate key" in message


def test_yaml_syntax_error_has_the_line_of_the_problem() -> None:
    [(line, path, message)] = _problems("mode: enforce\n  bad: indent\nversion: 1\n")
    assert (line, path) == (2, "")
    assert message == "YAML syntax error: mapping values are not allowed here"


@pytest.mark.parametrize("text", ["- enforce\n- shadow\n", "just a string\n", "42\n"])
def test_top_level_that_is_not_a_mapping_is_rejected(text: str) -> None:
    [(line, _, message)] = _problems(text)
    assert line == 1
    assert "mapping" in message


def test_cross_reference_to_an_undeclared_trust_level_names_its_field() -> None:
    text = "tools:\n  on_value_from:\n    hostile: block\n    sketchy: block\n"
    [(line, path, message)] = _problems(text)
    assert (line, path) == (4, "tools.on_value_from.sketchy")
    assert "unknown trust level 'sketchy'" in message


def test_duplicate_rule_names_are_rejected() -> None:
    text = (
        "rules:\n"
        "  - {name: r1, action: block}\n"
        "  - {name: r1, action: allow}\n"
    )
    [(line, path, message)] = _problems(text)
    assert path == "rules[1].name"
    assert line == 3
    assert "duplicate rule name" in message


def test_from_dict_validates_like_yaml() -> None:
    with pytest.raises(PolicyError) as exc:
        Policy.from_dict({"mode": "loud"})
    assert [p.path for p in exc.value.problems] == ["mode"]


def test_from_file_on_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as exc:
        Policy.from_file(missing)
    [problem] = exc.value.problems
    assert problem.message == "policy file not found"
    assert problem.source == str(missing)


def test_from_file_reports_problems_under_the_file_name(tmp_path: Path) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text("mode: shadow\non_error: maybe\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        Policy.from_file(f)
    [problem] = exc.value.problems
    assert (problem.source, problem.line, problem.path) == (str(f), 2, "on_error")


def test_from_file_rejects_non_utf8(tmp_path: Path) -> None:
    f = tmp_path / "policy.yaml"
    f.write_bytes(b"mode: \xff\xfe\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        Policy.from_file(f)


# --- trust sources ----------------------------------------------------------------------------------


def test_trust_sources_first_match_wins_so_specific_globs_go_first() -> None:
    p = Policy.from_yaml(
        'trust:\n  sources:\n    "tool:web_*": hostile\n    "tool:*": external\n    user: user\n'
    )
    assert p.trust_for_source("tool:web_search") == "hostile"
    assert p.trust_for_source("tool:calculator") == "external"
    assert p.trust_for_source("user") == "user"
    assert p.trust_for_source("retriever:docs") == "internal"  # not listed by the user: built-in entry kept
    assert p.trust_for_source("mcp:anything") == "untrusted"  # matched by nothing: trust.default


def test_user_trust_sources_are_merged_after_the_user_patterns_not_replacing_them() -> None:
    p = Policy.from_yaml('trust:\n  sources:\n    "tool:crm_*": internal\n')
    assert p.trust_for_source("tool:crm_lookup") == "internal"
    assert p.trust_for_source("user") == "user"  # the built-in map survives a partial override
    assert p.trust_for_source("tool:web_search") == "untrusted"


def test_trust_sources_written_general_first_shadow_the_specific_one() -> None:
    p = Policy.from_yaml('trust:\n  sources:\n    "tool:*": external\n    "tool:web_*": hostile\n')
    assert p.trust_for_source("tool:web_search") == "external"


# --- on_value_from ------------------------------------------------------------------------------------


def test_naming_untrusted_in_on_value_from_does_not_relax_hostile() -> None:
    p = Policy.from_yaml("tools:\n  on_value_from:\n    untrusted: require_approval\n")
    assert p.on_value_from("send_email", "untrusted") is Action.REQUIRE_APPROVAL
    assert p.on_value_from("send_email", "hostile") is Action.BLOCK  # the built-in entry is kept
    assert p.on_value_from("send_email", "external") is Action.ALLOW  # above every named level


def test_on_value_from_levels_not_named_inherit_from_the_nearest_named_level_above() -> None:
    p = Policy.from_yaml(
        "trust:\n  levels: [system, user, internal, external, untrusted, hostile, quarantined]\n"
        "tools:\n  on_value_from:\n    external: require_approval\n"
    )
    assert p.on_value_from("send_email", "quarantined") is Action.BLOCK  # inherits hostile's block
    assert p.on_value_from("send_email", "external") is Action.REQUIRE_APPROVAL
    assert p.on_value_from("send_email", "internal") is Action.ALLOW


def test_a_partial_entity_entry_keeps_the_built_in_directions_it_does_not_name() -> None:
    p = Policy.from_yaml("redaction:\n  entities:\n    EMAIL_ADDRESS: {into_model: redact}\n")
    assert p.strategy("EMAIL_ADDRESS", Direction.INTO_MODEL)[0] is Strategy.REDACT
    assert p.strategy("EMAIL_ADDRESS", Direction.OUT_TO_USER)[0] is Strategy.ALLOW  # built-in kept
    assert p.strategy("SECRET:AWS_ACCESS_KEY", Direction.INTO_TOOL)[0] is Strategy.BLOCK  # other entities kept


def test_a_specific_secret_entry_inherits_secret_for_directions_it_does_not_name() -> None:
    p = Policy.from_yaml("redaction:\n  entities:\n    SECRET:AWS_ACCESS_KEY: {into_model: hash}\n")
    assert p.strategy("SECRET:AWS_ACCESS_KEY", Direction.INTO_MODEL) == (
        Strategy.HASH, "redaction.entities.SECRET:AWS_ACCESS_KEY.into_model")
    assert p.strategy("SECRET:AWS_ACCESS_KEY", Direction.INTO_TOOL) == (
        Strategy.BLOCK, "redaction.entities.SECRET.into_tool")


def test_on_value_from_default_blocks_hostile_and_allows_untrusted() -> None:
    p = Policy.default()
    assert p.on_value_from("send_email", "hostile") is Action.BLOCK
    assert p.on_value_from("send_email", "untrusted") is Action.ALLOW
    assert p.on_value_from("send_email", "user") is Action.ALLOW


def test_on_value_from_per_tool_override_wins_over_the_global_table() -> None:
    p = Policy.from_yaml(
        "tools:\n"
        "  tools:\n"
        "    transfer_money:\n"
        "      on_value_from: {untrusted: block, internal: require_approval}\n"
    )
    assert p.on_value_from("transfer_money", "untrusted") is Action.BLOCK
    assert p.on_value_from("transfer_money", "external") is Action.REQUIRE_APPROVAL  # inherits from internal
    assert p.on_value_from("transfer_money", "hostile") is Action.BLOCK  # global table still applies
    assert p.on_value_from("search", "untrusted") is Action.ALLOW


# --- strategy -----------------------------------------------------------------------------------------


def test_strategy_for_a_secret_type_falls_back_to_secret() -> None:
    p = Policy.default()
    assert p.strategy("SECRET:GITHUB_TOKEN", Direction.INTO_MODEL) == (
        Strategy.REDACT, "redaction.entities.SECRET.into_model"
    )


def test_strategy_for_a_named_secret_type_wins_over_secret() -> None:
    p = Policy.from_yaml(
        "redaction:\n"
        "  entities:\n"
        "    SECRET: block\n"
        "    SECRET:AWS_ACCESS_KEY: {into_model: hash}\n"
    )
    assert p.strategy("SECRET:AWS_ACCESS_KEY", Direction.INTO_MODEL) == (
        Strategy.HASH, "redaction.entities.SECRET:AWS_ACCESS_KEY.into_model"
    )
    assert p.strategy("SECRET:SLACK_TOKEN", Direction.INTO_MODEL) == (
        Strategy.BLOCK, "redaction.entities.SECRET.into_model"
    )


def test_strategy_for_an_entity_the_policy_does_not_name_uses_redaction_default() -> None:
    assert Policy.default().strategy("MEDICAL_LICENSE", Direction.OUT_TO_USER) == (
        Strategy.REDACT, "redaction.default.out_to_user"
    )


def test_bare_strategy_string_sets_all_four_directions() -> None:
    p = Policy.from_yaml("redaction:\n  entities:\n    PERSON: hash\n")
    assert {p.strategy("PERSON", d)[0] for d in Direction} == {Strategy.HASH}


# --- clearance ----------------------------------------------------------------------------------------

TENANTS = """\
access:
  tenants:
    acme: {max_clearance: confidential}
    globex: {}
"""


def test_clearance_within_the_tenants_cap_is_allowed() -> None:
    p = Policy.from_yaml(TENANTS)
    p.clearance_allowed("acme", "confidential")
    p.clearance_allowed("globex", "secret")  # no cap


def test_clearance_for_an_undeclared_tenant_is_refused() -> None:
    with pytest.raises(PolicyError, match="tenant 'initech' is not declared"):
        Policy.from_yaml(TENANTS).clearance_allowed("initech", "public")


def test_clearance_above_the_tenants_cap_is_refused() -> None:
    with pytest.raises(PolicyError, match="exceeds tenant 'acme'"):
        Policy.from_yaml(TENANTS).clearance_allowed("acme", "secret")


def test_unknown_clearance_level_is_refused() -> None:
    with pytest.raises(PolicyError, match="unknown clearance 'top_secret'"):
        Policy.default().clearance_allowed("", "top_secret")


# --- the shipped example policies ---------------------------------------------------------------------

_EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", _EXAMPLE_FILES or [None], ids=lambda p: p.name if p else "none")
def test_every_example_policy_loads_except_the_deliberately_broken_one(path: Path | None) -> None:
    if path is None:
        pytest.skip("examples/policies/ has no policies")
    if path.name.startswith("broken"):
        with pytest.raises(PolicyError) as exc:
            Policy.from_file(path)
        # The demonstration is only useful if every problem points somewhere.
        assert exc.value.problems
        assert all(p.line is not None and p.path for p in exc.value.problems)
    else:
        assert isinstance(Policy.from_file(path), Policy)


# --- tool names: one tool whatever its spelling ------------------------------------------------------------

_TOOLS_POLICY = """
tools:
  tools:
    send_email: {class: egress}
rules:
  - name: no_wire
    when: {tool: "wire_*"}
    action: block
"""


@pytest.mark.parametrize("spelling", ["send_email", "Send-Email", "SendEmail", "send email", "SEND_EMAIL",
                                      "\uff33end\uff25mail", "send\u200b_email"])
def test_a_tool_is_found_whatever_its_case_width_or_separators(spelling: str) -> None:
    p = Policy.from_yaml(_TOOLS_POLICY)
    assert p.tool(spelling).cls.value == "egress"


def test_a_different_tool_name_still_gets_the_default() -> None:
    p = Policy.from_yaml(_TOOLS_POLICY)
    assert p.tool("send_emails").cls.value == "side_effect"


def test_rule_tool_globs_match_in_canonical_form() -> None:
    g = Policy.from_yaml(_TOOLS_POLICY).rule_globs("no_wire")["tool"]
    assert g is not None and g.matches("WireTransfer") and g.matches("wire-funds") and not g.matches("rewire")


def test_two_tool_entries_that_name_the_same_tool_are_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="name the same tool"):
        Policy.from_yaml("tools:\n  tools:\n    send_email: {class: egress}\n    SendEmail: {class: read_only}\n")


def test_renamed_egress_tool_is_still_checked_as_egress() -> None:
    from ctxguard import AuditLog, Firewall

    with Firewall(Policy.from_yaml(_TOOLS_POLICY), audit=AuditLog(None), signing_key=b"tool-names-key-012345") as fw, \
            fw.session("alice") as s:
        d = s.check_tool_call("Send-Email", {"to": "eve@evil.example", "body": "hi"})
        assert d.blocked and "exfil:destination" in {f.kind for f in d.findings}
