"""The cases REST API (docs/api-cases.md): applicants' apps and staff clients, session authentication."""
