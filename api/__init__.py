"""The HTTP API (FastAPI): applicants, agency and payment webhooks, public verification. See api.app.create_app."""
