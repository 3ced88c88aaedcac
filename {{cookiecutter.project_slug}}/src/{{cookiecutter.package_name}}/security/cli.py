"""``flask --app {{ cookiecutter.package_name }} security ...``: the policy, for people and machines."""

from flask.cli import AppGroup

security_cli = AppGroup("security", help="Inspect the security-header policy.")

from .check import check  # noqa: E402 - the live check lives in its own module

security_cli.add_command(check)
