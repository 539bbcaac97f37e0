"""Schedule: orders still ``received`` after the tenant's acceptance window."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.observability import instrumented, logger
from functions.orders.handlers.deps import default_deps
from functions.orders.logic.reminders import run_reminders
from functions.orders.settings import OrdersSettings


@instrumented(OrdersSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = asdict(run_reminders(default_deps()))
    logger.info("acceptance reminders", extra=report)
    return report
