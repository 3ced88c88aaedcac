"""The platform team's view of every service baked from this template.

Run from the template repository: ``.venv/bin/python -m fleet report FLEET.toml``.
It reads services as data (git, ``.cruft.json``, files); it never imports or
runs a service's code.
"""
