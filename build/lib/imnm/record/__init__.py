"""The patient record: one strict, documented shape for everything IMNM Navigator knows about a patient."""

from imnm.record.model import Record

__all__ = ["Record"]
