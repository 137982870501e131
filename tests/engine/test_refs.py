import pytest

from reference_impl import refs
from reference_impl.errors import InvalidInput


@pytest.mark.parametrize("text, name, tag, domain", [
    ("busybox", "busybox", "latest", None),
    ("user/web:v1", "user/web", "v1", None),
    ("127.0.0.1:5000/bb:1", "127.0.0.1:5000/bb", "1", "127.0.0.1:5000"),
    ("localhost/a/b", "localhost/a/b", "latest", "localhost"),
])
def test_references_parse_as_docker_parses_them(text, name, tag, domain):
    ref = refs.parse_tagged(text)
    assert (ref.name, ref.tag, ref.domain) == (name, tag, domain)


@pytest.mark.parametrize("text", ["UPPER", "a:b:c", "-lead", "a//b", "x@sha256:12", ""])
def test_invalid_references_are_refused_in_dockers_words(text):
    with pytest.raises(InvalidInput) as err:
        refs.parse(text)
    assert "invalid reference format" in str(err.value)
