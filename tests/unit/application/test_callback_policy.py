"""Callbacks reach public addresses only, unless the operator allows a network."""

from __future__ import annotations

import pytest

from dualsign.application.outbox.callback_policy import CallbackPolicy, CallbackRefused, parse_networks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",  # loopback dressed as IPv6
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_literal_addresses_are_refused_at_creation(url: str) -> None:
    problem = CallbackPolicy().url_problem(url)
    assert problem is not None and "not a public address" in problem


def test_public_addresses_names_and_allowed_networks_pass() -> None:
    policy = CallbackPolicy(parse_networks(["10.1.2.0/24"]))
    assert policy.url_problem("https://hooks.bank.example/dualsign") is None
    assert policy.url_problem("https://8.8.8.8/x") is None
    assert policy.url_problem("http://10.1.2.9:8080/x") is None  # the operator's receiver
    assert policy.url_problem("http://10.1.3.9/x") is not None
    assert policy.url_problem("https://u:p@hooks.bank.example/") == (
        "must not carry credentials (the delivery is signed instead)"
    )
    assert policy.url_problem("gopher://hooks.bank.example/") == "must be an absolute http(s) URL"


def test_a_name_resolving_to_an_internal_address_is_refused_at_delivery() -> None:
    policy = CallbackPolicy()
    seen: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return ["93.184.215.14", "10.0.0.7"]  # one internal address is enough to refuse

    with pytest.raises(CallbackRefused) as refused:
        policy.check_delivery("https://hooks.bank.example/x", resolve)
    assert seen == [("hooks.bank.example", 443)]
    assert refused.value.reason == (
        "callback host 'hooks.bank.example' resolves to 10.0.0.7 is not a public address "
        "(loopback, private, link-local or reserved)"
    )
    policy.check_delivery("http://hooks.bank.example:8080/x", lambda h, p: ["93.184.215.14"])


def test_a_name_that_does_not_resolve_is_refused_with_the_reason() -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(CallbackRefused, match="does not resolve: Name or service not known"):
        CallbackPolicy().check_delivery("https://nowhere.example/x", resolve)


def test_bad_allowed_networks_are_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not an IP address or network"):
        parse_networks(["10.0.0.0/33"])
