"""``tgbot_build_info{version="..."} 1``: the release each bot process (serve, poll, dispatch)
runs, on its ``/metrics``, so a dashboard shows which version every replica is on."""

from __future__ import annotations

from prometheus_client import Info

from tgbot.version import VERSION

BUILD_INFO = Info("tgbot_build", "The release this process runs.")
BUILD_INFO.info({"version": VERSION})
