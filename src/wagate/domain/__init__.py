"""The rules of wagate in pure Python: phones, message life cycle, contacts.

Nothing in this package performs I/O or knows of HTTP or SQL; the store remembers,
the API translates, the domain decides.
"""
