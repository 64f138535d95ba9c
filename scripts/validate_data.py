"""`rasa data validate --fail-on-warnings`, with one deliberate exception, plus Concierge's own checks.

The exception: intents named EXTERNAL_* are sent by the routing service and by reminders, never typed by
customers, so they have no NLU examples on purpose (examples would teach the classifier to predict them).
Run with the bot runtime: `.venv/bot/bin/python scripts/validate_data.py`; exits 1 on any problem.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Text

from rasa.cli.utils import _validate_domain, _validate_nlu, _validate_story_structure
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_PREFIX = "EXTERNAL_"


class ConciergeValidator(Validator):
    """Rasa's validator, except that EXTERNAL_* intents need no NLU examples."""

    def _non_default_intents(self) -> List[Text]:
        return [i for i in super()._non_default_intents() if not i.startswith(EXTERNAL_PREFIX)]


def main() -> int:
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    validator = ConciergeValidator.from_importer(importer)
    # the same checks as `rasa data validate --fail-on-warnings` (each prints its own warnings)
    results = [_validate_domain(validator), _validate_nlu(validator, False),
               _validate_story_structure(validator, None, False)]
    if all(results):
        print("validate: data is valid")
        return 0
    print("validate: the data has problems (see the warnings above)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
