"""CDS Hooks 2.0 service: specification models, discovery, hook handlers, cards, JWT checks, fhirServer client.

Include `imnm.cds.service.cds_router(config, feedback=..., audit=...)` in a FastAPI app (see service.py).
"""
