"""The commission's web pages: an applicant portal, an officer dashboard and an agency clerk view.

Server-rendered (Jinja2) on the API's FastAPI app, behind a session cookie that holds the account's token, so
every page resolves the same Principal as the JSON API and reads through the same services (api.access,
api.listing, store.queue, the workflow updates of api.permits, api.actions and api.officer).
"""
