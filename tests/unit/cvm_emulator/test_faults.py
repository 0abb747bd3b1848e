# SPDX-License-Identifier: GPL-3.0-or-later
"""Every fault mode of the emulator, with the effect a client sees, and the state it leaves."""

import time

import pytest
import requests


from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from helpers import EmulatorProcess, self_signed
from sdk_helpers import create, describe, make_client, outcomes


def sdk_exc(func, *args):
    with pytest.raises(TencentCloudSDKException) as info:
        func(*args)
    return info.value


def test_latency_past_the_client_timeout_still_commits(emulator):
    emulator.fault(action="CreateKeyPair", mode="latency", latency=1.5)
    client = make_client(emulator, timeout=0.5)
    assert sdk_exc(create, client, "slow").code == "ClientNetworkError"
    deadline = time.monotonic() + 5
    while not emulator.key_pairs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [kp["key_name"] for kp in emulator.key_pairs()] == ["slow"]


def test_injected_error_codes_count_down(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    client = make_client(emulator)
    assert sdk_exc(describe, client).code == "RequestLimitExceeded"
    assert sdk_exc(describe, client).code == "RequestLimitExceeded"
    assert describe(client).TotalCount == 0
    emulator.fault(action="CreateKeyPair", mode="error", code="InternalError")
    assert sdk_exc(create, client, "x").code == "InternalError"
    assert emulator.key_pairs() == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_errors_with_non_json_bodies(emulator, status):
    emulator.fault(action="CreateKeyPair", mode="http_error", status=status)
    exc = sdk_exc(create, make_client(emulator), "x")
    assert exc.code == "ServerNetworkError" and "Server Error" in str(exc.message)
    assert emulator.key_pairs() == []


def test_after_lets_the_first_requests_through(emulator):
    emulator.fault(action="CreateKeyPair", mode="error", code="InternalError", after=2)
    client = make_client(emulator)
    create(client, "first")
    create(client, "second")
    assert sdk_exc(create, client, "third").code == "InternalError"
    create(client, "fourth")  # count 1: used up
    assert [r["faults"] for r in emulator.requests()] == [[], [], ["error"], []]
    assert sorted(kp["key_name"] for kp in emulator.key_pairs()) == ["first", "fourth", "second"]


def test_close_before_processing_creates_nothing(emulator):
    emulator.fault(action="CreateKeyPair", mode="close_before")
    assert sdk_exc(create, make_client(emulator), "x").code == "ClientNetworkError"
    assert emulator.key_pairs() == []
    assert emulator.requests()[-1]["faults"] == ["close_before"]


def test_close_after_commit_leaves_the_key_pair(emulator):
    emulator.fault(action="CreateKeyPair", mode="close_after")
    assert sdk_exc(create, make_client(emulator), "lost").code == "ClientNetworkError"
    assert [kp["key_name"] for kp in emulator.key_pairs()] == ["lost"]


def test_hold_commits_then_holds_the_answer(emulator):
    emulator.fault(action="CreateKeyPair", mode="hold", latency=1.5)
    client = make_client(emulator, timeout=0.5)
    started = time.monotonic()
    assert sdk_exc(create, client, "held").code == "ClientNetworkError"
    assert time.monotonic() - started < 1.4  # the client gave up while the answer was held...
    assert [kp["key_name"] for kp in emulator.key_pairs()] == ["held"]  # ...after the commit
    emulator.fault(action="CreateKeyPair", mode="hold", latency=0.5)
    started = time.monotonic()
    pair = create(make_client(emulator), "held_answered").KeyPair
    assert time.monotonic() - started >= 0.5 and pair.PrivateKey.startswith("-----BEGIN RSA ")


def test_malformed_missing_and_unwrapped_bodies(emulator):
    client = make_client(emulator)
    emulator.fault(action="CreateKeyPair", mode="malformed_json")
    exc = sdk_exc(create, client, "m1")
    assert exc.code == "JSONDecodeError" and exc.requestId is None
    emulator.fault(action="CreateKeyPair", mode="missing_fields")
    assert create(client, "m2").KeyPair is None  # the SDK cannot tell: the private key is silently gone
    emulator.fault(action="CreateKeyPair", mode="no_response")
    exc = sdk_exc(create, client, "m3")
    assert exc.code == "KeyError" and "Response" in exc.message
    assert sorted(kp["key_name"] for kp in emulator.key_pairs()) == ["m1", "m2", "m3"]


def test_wrong_content_type_hides_errors_from_the_sdk(emulator):
    """Reference section 2.4: with `application/json; charset=utf-8` the SDK treats an error as success."""
    client = make_client(emulator)
    create(client, "dup")
    emulator.fault(action="CreateKeyPair", mode="wrong_content_type")
    assert create(client, "dup").KeyPair is None


def _probability_outcomes(seed):
    """30 DescribeKeyPairs calls against a fresh emulator started with --seed, under a 50 % fault (at most 3)."""
    emu = EmulatorProcess("--port", "0", "--seed", str(seed)).start()
    try:
        emu.url_host = emu.url.split("://")[1]
        emu.admin.fault(action="DescribeKeyPairs", mode="error", code="InternalError", probability=0.5, count=3)
        return outcomes(30, describe, make_client(emu))
    finally:
        emu.stop()


def test_probability_faults_are_seeded_and_bounded():
    first, again, other = _probability_outcomes(7), _probability_outcomes(7), _probability_outcomes(8)
    assert first.count("InternalError") == 3 and other.count("InternalError") == 3  # bounded by count
    assert first == again  # the same seed fires on the same calls
    assert first != other  # another seed on other calls (seed 7: calls 0, 1, 3; seed 8: calls 0, 2, 4)


def test_rate_limit_like_the_real_service(emulator):
    emulator.rate_limit("DescribeKeyPairs", 10)
    client = make_client(emulator)
    codes = outcomes(15, describe, client)
    assert "RequestLimitExceeded" in codes and codes[:10] == ["ok"] * 10
    emulator.rate_limit("DescribeKeyPairs", 0)
    describe(client)


def test_admin_api_rejects_bad_fault_specs(emulator):
    auth = {"Authorization": "Bearer %s" % emulator.token}
    resp = requests.post(emulator.url + "/_emulator/faults", json={"mode": "explode"}, headers=auth, timeout=5)
    assert resp.status_code == 400 and "mode must be one of" in resp.json()["error"]
    resp = requests.post(emulator.url + "/_emulator/faults", json=["not", "an", "object"], headers=auth, timeout=5)
    assert resp.status_code == 400 and "JSON object" in resp.json()["error"]
    assert requests.get(emulator.url + "/_emulator/nothing", headers=auth, timeout=5).status_code == 404
    assert requests.get(emulator.url + "/elsewhere", timeout=5).status_code == 404


def test_state_survives_a_restart_with_db(tmp_path):
    db = str(tmp_path / "state.db")
    first = EmulatorProcess("--port", "0", "--db", db).start()
    try:
        first.url_host = first.url.split("://")[1]
        create(make_client(first), "kept")
    finally:
        first.stop()
    second = EmulatorProcess("--port", "0", "--db", db).start()
    try:
        second.url_host = second.url.split("://")[1]
        assert [kp.KeyName for kp in describe(make_client(second)).KeyPairSet] == ["kept"]
    finally:
        second.stop()


def test_cli_credentials_and_startup(tmp_path):
    started = time.monotonic()
    emu = EmulatorProcess("--port", "0", "--secret-id", "AKIDa", "--secret-key", "ka",
                          "--credential", "AKIDb:kb:tokb").start()
    startup = time.monotonic() - started
    try:
        emu.url_host = emu.url.split("://")[1]
        assert emu.url.startswith("http://127.0.0.1:")
        describe(make_client(emu, secret_id="AKIDa", secret_key="ka"))
        describe(make_client(emu, secret_id="AKIDb", secret_key="kb", token="tokb"))
        assert sdk_exc(describe, make_client(emu)).code == "AuthFailure.SecretIdNotFound"
    finally:
        emu.stop()
    print("emulator startup: %.3f s" % startup)


def test_tls(tmp_path):
    cert, key = self_signed(tmp_path)
    emu = EmulatorProcess("--port", "0", "--tls-cert", cert, "--tls-key", key).start()
    try:
        assert emu.url.startswith("https://127.0.0.1:")
        auth = {"Authorization": "Bearer %s" % emu.token}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(emu.url + "/_emulator/health", headers=auth, timeout=5)
        assert requests.get(emu.url + "/_emulator/health", headers=auth, timeout=5, verify=cert).json() == {"ok": True}
    finally:
        emu.stop()
