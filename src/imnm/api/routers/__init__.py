"""API routers; each module has `router` (mounted under /api/v1 by `imnm.api.app.create_app`)."""
