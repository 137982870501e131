"""reference_impl/store/digest.py: a digest is parsed and validated once, and marshals as a string."""
import hashlib
import json

import pytest

from reference_impl.errors import InvalidInput
from reference_impl.store.digest import Digest, Hasher, InvalidDigest

HELLO = hashlib.sha256(b"hello").hexdigest()


def test_a_digest_knows_its_parts_and_is_the_string_docker_prints():
    digest = Digest(f"sha256:{HELLO}")
    assert (digest.algorithm, digest.hex, digest.short) == ("sha256", HELLO, HELLO[:12])
    assert digest == f"sha256:{HELLO}"
    assert json.dumps({"Id": digest}) == json.dumps({"Id": f"sha256:{HELLO}"})
    assert {digest: 1}[f"sha256:{HELLO}"] == 1  # a plain string finds it as a key
    assert Digest(digest) is digest


def test_digests_of_content_bytes_files_and_streams_agree(tmp_path):
    (tmp_path / "f").write_bytes(b"hello")
    with open(tmp_path / "f", "rb") as f:
        streamed = Hasher().update_from(f).digest()
    assert Digest.of(b"hello") == Digest.of_file(tmp_path / "f") == streamed == f"sha256:{HELLO}"
    assert Digest.of(b"hello", "sha512") == "sha512:" + hashlib.sha512(b"hello").hexdigest()
    assert Digest.of(b"hello").matches(b"hello") and not Digest.of(b"hello").matches(b"hellO")
    assert Digest.from_hex(HELLO) == f"sha256:{HELLO}"


@pytest.mark.parametrize("text", [
    "", HELLO, f"sha256:{HELLO[:-1]}", f"sha256:{HELLO}0", f"sha256:{HELLO.upper()}",
    f"md5:{HELLO}", f"sha512:{HELLO}", f"sha256:../{HELLO[3:]}", f" sha256:{HELLO}",
])
def test_malformed_digests_are_refused_where_they_enter(text):
    assert not Digest.valid(text)
    with pytest.raises(InvalidDigest) as info:
        Digest(text)
    assert isinstance(info.value, InvalidInput)  # the engine reports it as bad input
    assert str(info.value).startswith("invalid digest: ")


def test_an_unknown_algorithm_has_no_hasher():
    with pytest.raises(InvalidDigest):
        Hasher("md5")
