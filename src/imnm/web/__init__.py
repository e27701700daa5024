"""The web app: server-rendered pages (FastAPI + Jinja2, htmx vendored) on the records service.

Mounted by `imnm.api.app.create_app` in the same application as the API (`imnm.web.app.include`).
Pages call the same services as the API and the CLI (`imnm.services`, the store) and take their
wording from `imnm.render` and the knowledge tables; templates hold no clinical logic. Every page
works without JavaScript; htmx only swaps parts of a page. See `imnm.web.app` for the page map.
"""
