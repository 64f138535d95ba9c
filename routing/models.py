"""Imports every concept's models so that Base.metadata knows all tables (for Alembic)."""

import routing.customers.models  # noqa: F401,E402
import routing.orders.models  # noqa: F401,E402
import routing.decisions.models  # noqa: F401,E402
import routing.tiers.models  # noqa: F401,E402
import routing.agents.models  # noqa: F401,E402
import routing.escalations.models  # noqa: F401,E402
