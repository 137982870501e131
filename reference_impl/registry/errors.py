"""Error codes, status codes and messages as the distribution spec (and
distribution 2.8, Debian's docker-registry) define and word them."""
import json

API_VERSION_HEADER = ("Docker-Distribution-Api-Version", "registry/2.0")

# code -> (HTTP status, message)
CODES = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "TAG_INVALID": (400, "manifest tag did not match URI"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "The operation is unsupported."),
    "PAGINATION_NUMBER_INVALID": (400, "invalid number of results requested"),
    "RANGE_INVALID": (416, "invalid content range"),
    "TOOMANYREQUESTS": (429, "too many requests"),
    "UNKNOWN": (500, "unknown error"),
}


class RegistryError(Exception):
    """One spec error; `status` may override the code's usual status."""

    def __init__(self, code: str, detail=None, *, message: str | None = None,
                 status: int | None = None, headers: dict | None = None):
        default_status, default_message = CODES[code]
        super().__init__(f"{code}: {message or default_message}")
        self.code = code
        self.detail = detail
        self.message = message or default_message
        self.status = status or default_status
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        """The JSON body, byte for byte as distribution writes it (trailing newline)."""
        entry = {"code": self.code, "message": self.message, "detail": self.detail}
        return (json.dumps({"errors": [entry]}, separators=(",", ":")) + "\n").encode()
