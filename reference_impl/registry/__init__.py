"""The registry of the reference engine: a Registry HTTP API v2 server (with the
v1 search endpoint, htpasswd basic auth or token auth) and a client for it.

Modules, one job each:
  names      repository-name, tag and digest grammar
  errors     the distribution spec's error codes and JSON error bodies
  storage    the on-disk layout: blobs, per-repository links, tags, uploads
  uploads    blob upload sessions (append, running digest, commit)
  manifests  manifest media types, validation and content negotiation
  access     the access a request needs (repository:name:pull,push), scope strings
  auth       htpasswd (bcrypt) basic auth and the challenge
  tokens     RS256 JWTs (PyJWT): the signing key in the root, issue, verify
  bearer     token auth on the registry's side: scope checks, Bearer challenges
  token_service  the token service (GET /token) beside the registry
  app        the aiohttp application: routing and middlewares
  api_*      request handlers per endpoint family
  collect    garbage collection: mark from every manifest, sweep the rest
  serve      `serve` and `garbage-collect` command lines: main(argv)
  client     RegistryClient, used by the engine's pull/push/login/search
Nothing here has side effects at import time.
"""
