"""The records service's REST API (FastAPI): `create_app(settings)` in `imnm.api.app`."""
