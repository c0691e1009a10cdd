"""The web UI of ``blocks server`` at ``/ui``: server-rendered pages over the same registry,
the same authenticator and the same policy checks as the HTTP API (see ``UI.md`` and
``docs/ui.md``). No build step: Jinja2 templates and static files ship in the package."""
