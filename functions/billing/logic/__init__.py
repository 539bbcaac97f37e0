"""Billing logic: pure functions over the protocols in ``functions.billing.dal.protocol``;
dependencies come from the composition root ``functions.billing.handlers.deps``."""
