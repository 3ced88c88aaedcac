"""``flask --app {{ cookiecutter.package_name }} security ...``: the policy, for people and machines."""

from flask.cli import AppGroup

security_cli = AppGroup("security", help="Inspect the security-header policy.")
