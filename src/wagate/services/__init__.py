"""Use cases shared by every API door: validate with the domain, persist with the store.

A rule enforced here holds for ``/v1``, ``/api2`` and ``/whatsapp`` alike; each door only
translates errors into its own dialect.
"""
