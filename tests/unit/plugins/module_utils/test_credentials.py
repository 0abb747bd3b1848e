# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials and region resolution: options, environment, ~/.tencentcloud/credentials, tccli files."""

import json

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
import pytest


@pytest.fixture
def home(tmp_path):
    return tmp_path


def env(home, **extra):
    return dict({"HOME": str(home)}, **extra)


def write_ini(home, text):
    (home / ".tencentcloud").mkdir(exist_ok=True)
    (home / ".tencentcloud" / "credentials").write_text(text)


def write_tccli(home, profile, credential=None, configure=None):
    (home / ".tccli").mkdir(exist_ok=True)
    if credential is not None:
        (home / ".tccli" / ("%s.credential" % profile)).write_text(json.dumps(credential))
    if configure is not None:
        (home / ".tccli" / ("%s.configure" % profile)).write_text(json.dumps(configure))


def test_options_win(home):
    creds = resolve_credentials({"secret_id": "AKIDopt", "secret_key": "kopt", "security_token": "t"},
                                env(home, TENCENTCLOUD_SECRET_ID="AKIDenv", TENCENTCLOUD_SECRET_KEY="kenv"))
    assert (creds.secret_id, creds.secret_key, creds.token, creds.source) == ("AKIDopt", "kopt", "t", "task options")
    assert "kopt" not in repr(creds)


@pytest.mark.parametrize("given,missing", [("secret_id", "secret_key"), ("secret_key", "secret_id")])
def test_half_given_options_fail(home, given, missing):
    """Half a pair in the options is an error at once (the environment's full pair is not used instead)."""
    with pytest.raises(CredentialsError) as info:
        resolve_credentials({given: "AKIDopt"}, env(home, TENCENTCLOUD_SECRET_ID="a", TENCENTCLOUD_SECRET_KEY="b"))
    assert str(info.value) == (
        "Incomplete Tencent Cloud credentials: %s is given in the task options but %s is not. Give both secret_id "
        "and secret_key, or neither (then the environment and profile files are used)." % (given, missing))
    assert info.value.code == "MissingCredentials"


def test_half_given_inventory_options_name_the_inventory_source(home):
    with pytest.raises(CredentialsError, match="^Incomplete Tencent Cloud credentials: secret_key is given in the "
                                               "inventory source but secret_id is not[.] "):
        resolve_credentials({"secret_key": "k"}, env(home), origin="inventory source")


def _looked_in(home):
    return ("the secret_id/secret_key options; the TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY environment "
            "variables; %s/.tencentcloud/credentials [default]; %s/.tccli/default.credential" % (home, home))


@pytest.mark.parametrize("given,missing", [("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"),
                                           ("TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECRET_ID")])
def test_half_given_environment_says_which_half_is_missing(home, given, missing):
    with pytest.raises(CredentialsError) as info:
        resolve_credentials({}, env(home, **{given: "AKIDenv", missing: " "}))
    assert str(info.value) == (
        "Incomplete Tencent Cloud credentials: the environment sets %s but not %s (missing or empty). Give both, or "
        "neither. No complete pair anywhere; looked in: %s." % (given, missing, _looked_in(home)))
    assert info.value.code == "MissingCredentials"


def test_half_pairs_in_profile_files_are_named(home):
    write_ini(home, "[default]\nsecret_key = kini\n")
    write_tccli(home, "default", {"secretId": "AKIDtccli"})
    with pytest.raises(CredentialsError) as info:
        resolve_credentials({}, env(home, TENCENTCLOUD_SECRET_ID="AKIDenv"))
    assert str(info.value) == (
        "Incomplete Tencent Cloud credentials: the environment sets TENCENTCLOUD_SECRET_ID but not "
        "TENCENTCLOUD_SECRET_KEY (missing or empty); {home}/.tencentcloud/credentials [default] has secret_key but "
        "not secret_id (missing or empty); {home}/.tccli/default.credential has secretId but not secretKey (missing "
        "or empty). Give both, or neither. No complete pair anywhere; looked in: {looked}."
        .format(home=home, looked=_looked_in(home)))


def test_half_environment_falls_through_to_a_complete_profile(home):
    """As the Tencent Cloud SDKs do: a half pair in the environment is not a pair; the profile file's is used."""
    write_ini(home, "[default]\nsecret_id = AKIDini\nsecret_key = kini\n")
    creds = resolve_credentials({}, env(home, TENCENTCLOUD_SECRET_KEY="kenv"))
    assert (creds.secret_id, creds.secret_key) == ("AKIDini", "kini")


@pytest.mark.parametrize("variable", ["TENCENTCLOUD_SECURITY_TOKEN", "TENCENTCLOUD_TOKEN",
                                      "TENCENTCLOUD_SESSION_TOKEN"])
def test_environment_with_each_token_variable(home, variable):
    creds = resolve_credentials({}, env(home, TENCENTCLOUD_SECRET_ID="AKIDenv", TENCENTCLOUD_SECRET_KEY="kenv",
                                        **{variable: "tok"}))
    assert (creds.secret_id, creds.token, creds.source) == ("AKIDenv", "tok", "environment")


def test_token_variable_precedence(home):
    creds = resolve_credentials({}, env(home, TENCENTCLOUD_SECRET_ID="a", TENCENTCLOUD_SECRET_KEY="b",
                                        TENCENTCLOUD_TOKEN="second", TENCENTCLOUD_SECURITY_TOKEN="first"))
    assert creds.token == "first"


def test_ini_default_and_profile(home):
    write_ini(home, "[default]\nsecret_id = AKIDini\nsecret_key = kini\n\n[prod]\nsecret_id = AKIDprod\n"
                    "secret_key = kprod\ntoken = tprod\n")
    assert resolve_credentials({}, env(home)).secret_id == "AKIDini"
    prod = resolve_credentials({"profile": "prod"}, env(home, TENCENTCLOUD_SECRET_ID="x", TENCENTCLOUD_SECRET_KEY="y"))
    assert (prod.secret_id, prod.token) == ("AKIDprod", "tprod")  # env is not consulted when a profile is named
    assert resolve_credentials({}, env(home, TENCENTCLOUD_PROFILE="prod")).secret_id == "AKIDprod"


def test_ini_without_the_section_falls_through_to_tccli(home):
    write_ini(home, "[other]\nsecret_id = x\nsecret_key = y\n")
    write_tccli(home, "default", {"secretId": "AKIDtccli", "secretKey": "ktccli", "token": "ttccli"})
    creds = resolve_credentials({}, env(home))
    assert (creds.secret_id, creds.token) == ("AKIDtccli", "ttccli")
    assert creds.source.endswith(".tccli/default.credential")


def test_nothing_found_names_every_place(home):
    with pytest.raises(CredentialsError) as info:
        resolve_credentials({}, env(home))
    text = str(info.value)
    for place in ("secret_id/secret_key options", "TENCENTCLOUD_SECRET_ID", ".tencentcloud/credentials [default]",
                  ".tccli/default.credential"):
        assert place in text
    assert text == "No Tencent Cloud credentials found. Looked in: %s." % _looked_in(home)


def test_whitespace_in_keys_is_refused(home):
    with pytest.raises(CredentialsError, match="white space"):
        resolve_credentials({"secret_id": "AKID x", "secret_key": "k"}, env(home))


@pytest.mark.parametrize("token", ["sts-token-456\n", "sts\rtoken", " sts", "sts\x00"])
def test_a_malformed_token_is_refused_without_showing_it(home, token):
    """A security_token from a YAML `|` block ends with a newline: it would fail in an HTTP header, with the
    header's value in the error."""
    with pytest.raises(CredentialsError, match="security token from task options contains white space") as info:
        resolve_credentials({"secret_id": "AKID", "secret_key": "k", "security_token": token}, env(home))
    assert info.value.code == "InvalidArgument" and "sts" not in str(info.value)


def test_corrupt_tccli_file(home):
    (home / ".tccli").mkdir()
    (home / ".tccli" / "default.credential").write_text("{not json")
    with pytest.raises(CredentialsError, match="Cannot read"):
        resolve_credentials({}, env(home))


def test_region_order(home):
    write_tccli(home, "default", configure={"_sys_param": {"region": "ap-beijing"}})
    assert resolve_region({"region": "ap-shanghai"}, env(home, TENCENTCLOUD_REGION="ap-tokyo")) == "ap-shanghai"
    assert resolve_region({}, env(home, TENCENTCLOUD_REGION="ap-tokyo")) == "ap-tokyo"
    assert resolve_region({}, env(home)) == "ap-beijing"


def test_missing_region_names_every_place(home):
    with pytest.raises(CredentialsError) as info:
        resolve_region({}, env(home))
    assert "region option" in str(info.value) and "TENCENTCLOUD_REGION" in str(info.value)
    assert "default.configure" in str(info.value)
