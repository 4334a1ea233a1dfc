"""The evidence format's proofs: RFC 6962 inclusion and consistency, C2SP signed checkpoints."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from dualsign_verify import merkle
from dualsign_verify.checkpoint import Checkpoint, CheckpointError, parse_and_verify, sign


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_known_roots() -> None:
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    one = merkle.leaf_hash(b"")
    assert merkle.root([one]) == one
    assert merkle.root(leaves(2)) == merkle.node_hash(*leaves(2))


@given(st.integers(1, 70), st.data())
def test_every_leaf_proves_inclusion_and_nothing_else_does(n: int, data: st.DataObject) -> None:
    tree = leaves(n)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(tree, i)
    assert merkle.verify_inclusion(tree[i], i, n, proof, merkle.root(tree))
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), i, n, proof, merkle.root(tree))
    if n > 1:
        assert not merkle.verify_inclusion(tree[i], (i + 1) % n, n, proof, merkle.root(tree))


@given(st.integers(1, 70), st.data())
def test_a_grown_log_proves_it_only_grew(n: int, data: st.DataObject) -> None:
    tree = leaves(n)
    m = data.draw(st.integers(1, n))
    proof = merkle.consistency_proof(tree, m)
    assert merkle.verify_consistency(m, n, merkle.root(tree[:m]), merkle.root(tree), proof)
    rewritten = [*tree[: m - 1], merkle.leaf_hash(b"rewritten"), *tree[m:]]
    if m < n:
        assert not merkle.verify_consistency(m, n, merkle.root(tree[:m]), merkle.root(rewritten), proof)


def test_signed_checkpoint_round_trip_and_tamper() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    note = sign(Checkpoint("dualsign.example/log", 12, b"\x01" * 32), "dualsign.example/log", key)
    assert parse_and_verify(note, "dualsign.example/log", public) == Checkpoint(
        "dualsign.example/log", 12, b"\x01" * 32
    )
    with pytest.raises(CheckpointError, match="does not verify"):
        parse_and_verify(note.replace("\n12\n", "\n13\n"), "dualsign.example/log", public)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(CheckpointError, match="no signature"):
        parse_and_verify(note, "dualsign.example/log", other)
