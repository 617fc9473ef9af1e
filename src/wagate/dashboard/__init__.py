"""The operator dashboard: shared inbox, conversation view, analytics, operations pages.

Server-rendered (Jinja2) with htmx and a small EventSource script, all served by wagate
itself from ``static/`` (htmx is vendored from the npm registry; charts are server-side SVG).
``plugin.dashboard_plugin`` wires it into a node; ``docs/dashboard.md`` describes it.
"""
