"""Drop-in doors for CRMs written against two hosted WhatsApp APIs (docs/compatibility.md).

``wamm`` answers ``GET /api2/{method}/{token}/`` like the WAMM-style service; ``devino``
answers ``POST /whatsapp/messages`` like the Devino-style one. Both are thin: they build
``OutboundDraft``s and call the same services as ``/v1``, so every rule of the domain holds
for them too, and each translates ``wagate.errors`` into its own dialect at its edge
(``routing.DialectRoute``) — the native error handlers never answer for these paths.
"""
