"""The release this code belongs to: one value for ``--version``, ``/healthz``, the
``*_build_info`` metrics and the images' OCI labels.

It is the installed distribution's version, which hatch-vcs takes from the git tag at build time
(``v0.2.0`` -> ``0.2.0``); the Dockerfiles pass theirs in through the ``VERSION`` build argument.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "tgbot-platform"
UNKNOWN = "0.0.0"


def installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return UNKNOWN


VERSION = installed_version()
