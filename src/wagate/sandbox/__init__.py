"""The sandbox: a local stand-in for Meta's WhatsApp Cloud API, written from Meta's public documentation.

``simulator`` is the behaviour (one phone number and its WABA), ``routes`` its HTTP faces
(the Graph API and ``/sandbox`` controls), ``webhooks`` the signed callbacks. ``plugin``
mounts it in-process under ``/sandbox/graph`` with a ``sandbox`` channel pointed at it;
``app`` serves it alone for ``wagate sim``.
"""
