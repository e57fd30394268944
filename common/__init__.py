"""Shared plumbing every app may import: API errors, rate limits, lockout, request security, parsers,
pagination, the task queue, OpenAPI helpers and template context. Nothing here imports an app or the
project package, so imports only go down."""
