"""CDK entry point (``cdk.json``: ``python -m infra_cdk.app``; ``make synth``).

Synthesizes without Docker or network: Lambda code comes from ``build/`` when
``make build`` ran, else from a dependency-free copy of the sources; the agent image is
only staged. cdk-nag's AwsSolutions pack validates the app on every synth.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra_cdk import constants
from infra_cdk.assets import stage_sources
from infra_cdk.config import DeploymentConfig
from infra_cdk.stack import AtendeStack

#: CDK feature flags this app relies on (cdk.json context can still override them).
FEATURE_FLAGS: dict[str, Any] = {
    # Grant S3 server-access-log delivery through a bucket policy, not the deprecated ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(
    *,
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    prefer_build: bool = True,
) -> tuple[App, AtendeStack]:
    """The app and its one stack, with cdk-nag attached (nothing synthesized yet).

    ``prefer_build=False`` stages the sources even when ``build/`` exists (tests: the
    template is the same, the 30 MB layer is not copied)."""
    app = App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    config = DeploymentConfig.from_context(app.node)
    sources = stage_sources(Path(app.outdir) / ".lambda-sources", prefer_build=prefer_build)
    stack = AtendeStack(
        app,
        f"{constants.STACK_ID}-{config.stage}",
        stack_name=constants.physical_name(config.stage, "platform"),
        description="Atende: AI voice agents, webhooks, sync and prepaid billing.",
        # The template nears CloudFormation's 1 MB body limit (~860 KB indented with 20
        # functions): unindented JSON is about half the size. (Resources: ~460 of 500 — the
        # next domains need a second stack.)
        suppress_template_indentation=True,
        config=config,
        sources=sources,
        env=Environment(account=config.account, region=config.region),
    )
    Tags.of(stack).add("project", constants.APP_NAME)
    Tags.of(stack).add("stage", config.stage)
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    if prefer_build and not sources.built:
        print(
            "note: build/ not found; Lambda assets hold sources only (run `make build`"
            " before deploying).",
            file=sys.stderr,
        )
    return app, stack


def main() -> None:
    # `cdk synth` passes CDK_OUTDIR; `python -m infra_cdk.app` writes to ./cdk.out.
    outdir = None if os.environ.get("CDK_OUTDIR") else str(constants.REPO_ROOT / "cdk.out")
    app, _ = build_app(outdir=outdir)
    app.synth()


if __name__ == "__main__":
    main()
