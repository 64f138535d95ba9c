"""Imports every concept's models so that Base.metadata knows all tables (for Alembic)."""

import routing.agents.models
import routing.analytics.models
import routing.customers.models
import routing.decisions.models
import routing.escalations.models
import routing.orders.models
import routing.tiers.models  # noqa: F401
