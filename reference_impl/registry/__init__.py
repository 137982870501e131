"""The registry of the reference engine: a Registry HTTP API v2 server (with the
v1 search endpoint and htpasswd basic auth) and a client for it.

Modules, one job each:
  names      repository-name, tag and digest grammar
  errors     the distribution spec's error codes and JSON error bodies
  storage    the on-disk layout: blobs, per-repository links, tags, uploads
  uploads    blob upload sessions (append, running digest, commit)
  manifests  manifest media types, validation and content negotiation
  auth       htpasswd (bcrypt) basic auth and the challenge
  app        the aiohttp application: routing and middlewares
  api_*      request handlers per endpoint family
  serve      `serve` command line: main(argv)
  client     RegistryClient, used by the engine's pull/push/login/search
Nothing here has side effects at import time.
"""
