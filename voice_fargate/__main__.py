"""``python -m voice_fargate start|dev|console|download-files`` (the livekit-agents CLI).

Settings are validated before the worker starts, so a misconfigured task fails at once
with every missing variable named. ``download-files`` (run at image build time) needs no
configuration: it only fetches the plugins' model files.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    from livekit.agents import cli

    if args[:1] == ["download-files"]:
        from livekit.agents.plugin import Plugin
        from livekit.plugins import deepgram, openai, silero  # noqa: F401 - registers plugins

        for plugin in Plugin.registered_plugins:
            plugin.download_files()
        return

    from atende_shared.errors import ConfigurationError
    from atende_shared.settings import load_settings
    from voice_fargate.settings import VoiceSettings
    from voice_fargate.worker import build_server

    try:
        settings = load_settings(VoiceSettings)
    except ConfigurationError as exc:  # fail the task at once, naming every variable
        print(f"voice agent: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from exc
    server = build_server(settings)
    sys.argv = [sys.argv[0], *args]
    cli.run_app(server)


if __name__ == "__main__":
    main()
