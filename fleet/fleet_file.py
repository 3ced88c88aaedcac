"""The fleet file: the template, the minimum release, and the services."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fleet.fetch import shared

RELEASE = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
# A name is a folder under fleet update's --out: never a path, never hidden.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class FleetFileError(Exception):
    """A fleet file that cannot be used; the message is the one line to print."""


@dataclass(frozen=True)
class Service:
    name: str
    repo: str
    test: bool = True  # false: `fleet update --test` leaves its tests to its own CI
    url: str | None = None  # a page it serves: the report's live view fetches it


@dataclass(frozen=True)
class Fleet:
    template: str
    minimum: str
    services: list[Service]
    ca_bundle: str | None = None  # PEM CAs trusted besides the system's
    live_timeout: float = 10.0  # seconds each service's URL may take


def source(location: str, relative_to: Path) -> str:
    """A git URL as given; a local path resolved against the fleet file's folder."""
    if "://" in location or re.match(r"^[\w.-]+@[\w.-]+:", location):
        return location
    return str((relative_to / Path(location).expanduser()).resolve())


def load(path: Path) -> Fleet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FleetFileError(
            f"{path} is a folder; give the fleet file in it, e.g. {path / 'FLEET.toml'}"
        ) from None
    except OSError as error:
        raise FleetFileError(f"cannot read {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise FleetFileError(f"{path} is not TOML: {error}") from None
    template = data.get("template")
    if not isinstance(template, str) or not template:
        raise FleetFileError(
            f'{path}: give the template, e.g. template = "https://github.com/org/cookiecutter-flask-baseline"'
        )
    minimum = data.get("minimum")
    if not isinstance(minimum, str) or not RELEASE.fullmatch(minimum):
        raise FleetFileError(
            f'{path}: minimum = {minimum!r} is not a release; give a tag such as minimum = "v2.0.0"'
        )
    entries = data.get("service", [])
    if not isinstance(entries, list) or not entries:
        raise FleetFileError(
            f'{path}: no services; add [[service]] tables with name = "..." and repo = "..."'
        )
    services = []
    for number, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = repr(name) if isinstance(name, str) else f"number {number}"
        if not isinstance(name, str) or not name:
            raise FleetFileError(
                f'{path}: service {label} has no name; add name = "..."'
            )
        if not NAME.fullmatch(name):
            raise FleetFileError(
                f"{path}: service name {name!r} is not allowed: letters, digits, "
                '".", "_" and "-", starting with a letter or digit, e.g. name = "billing-api"'
            )
        repo = entry.get("repo")
        if not isinstance(repo, str) or not repo:
            raise FleetFileError(
                f'{path}: service {label} has no repo; add repo = "<git URL or path>"'
            )
        test = entry.get("test", True)
        if not isinstance(test, bool):
            raise FleetFileError(
                f"{path}: service {label} has test = {test!r}; give test = false "
                "(fleet update --test leaves its tests to its own CI) or leave it out"
            )
        url = entry.get("url")
        if url is not None and not live_url(url):
            raise FleetFileError(
                f"{path}: service {label} has url = {url!r}; give the https:// URL "
                'of a page it serves, e.g. url = "https://payments.example.com/"'
            )
        services.append(Service(name, source(repo, path.parent), test, url))
    names = [service.name for service in services]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise FleetFileError(f"{path}: service {duplicate!r} is listed twice")
    return Fleet(
        source(template, path.parent),
        minimum,
        services,
        ca_bundle(data.get("ca_bundle"), path),
        live_timeout(data.get("live_timeout", 10.0), path),
    )


def live_url(url: object) -> bool:
    """A URL the template's fetch asks (``security check``'s rules), ASCII and
    without credentials: the report and its page show it as given."""
    if not isinstance(url, str) or not url.isascii() or not url.isprintable():
        return False
    if shared.url_problem(url) is not None:
        return False
    parts = urlsplit(url)
    return parts.username is None and parts.password is None


def ca_bundle(value: object, path: Path) -> str | None:
    if value is None:
        return None
    # ~ first: joined to the fleet file's folder, "~/ca.pem" would be a folder "~"
    bundle = path.parent / Path(value).expanduser() if isinstance(value, str) else None
    if bundle is None or not value or not bundle.is_file():
        raise FleetFileError(
            f"{path}: ca_bundle = {value!r} is not a file; give a PEM file of the "
            'CAs to trust, relative to the fleet file, e.g. ca_bundle = "internal-ca.pem"'
        )
    return str(bundle.resolve())


def live_timeout(value: object, path: Path) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= 600
    ):
        raise FleetFileError(
            f"{path}: live_timeout = {value!r}; give the seconds each service's url "
            "may take, more than 0 and at most 600, e.g. live_timeout = 10"
        )
    return float(value)
