"""The public opt-in page ``/optin/{tenant}``: a client chooses which WhatsApp notifications to
receive and gives consent, recorded with its evidence (IP, user agent, time, form text version).

No JavaScript, no external assets, readable on a phone; the form is CSRF-protected with a
signed double-submit token.
"""
