"""Secret rotation: the previous secret works during its grace window, not after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atende_shared.models.common import utc_now
from atende_shared.tenant_secrets import IntegrationSecret
from tests.webhooks.cases import TENANT_CASES, Case
from tests.webhooks.conftest import Harness


@pytest.mark.parametrize("case", TENANT_CASES, ids=lambda c: c.provider)
def test_previous_secret_accepted_within_grace_refused_after(ingress: Harness, case: Case) -> None:
    assert case.secret_field is not None
    old, new = case.new_secret(), case.new_secret()
    field = case.secret_field

    # Given tenant "rota" rotated from old to new, old still in its grace window
    ingress.rotate(
        case,
        "rota",
        IntegrationSecret(
            current={field: new},
            previous={field: old},
            previous_valid_until=utc_now() + timedelta(hours=1),
        ),
    )
    # Then deliveries signed with either are accepted
    assert ingress.send(ingress.request(case, "rota", secret=old)).status == 200
    assert ingress.send(ingress.request(case, "rota", secret=new)).status == 200

    # Given the grace window has ended
    ingress.rotate(
        case,
        "rota",
        IntegrationSecret(
            current={field: new},
            previous={field: old},
            previous_valid_until=utc_now() - timedelta(seconds=1),
        ),
    )
    # Then the old secret is refused and the new one still works
    assert ingress.send(ingress.request(case, "rota", secret=old)).status == 401
    assert ingress.send(ingress.request(case, "rota", secret=new)).status == 200
    expected = 3
    assert ingress.total_messages() == expected
