"""What the services take (options) and give (records): plain dataclasses, no wire format,
one module per service (a call imports only its own).

Times are Unix seconds (float) or RFC 3339 text where Docker keeps the text; ids are full
(`sha256:…` for images, 64 hex for containers); the faces shorten and format them. Every
record has a docstring: dataclass() otherwise renders one from the signature, which costs
a CLI call milliseconds.
"""
