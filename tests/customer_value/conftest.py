from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from crm_extension.customer_value.engine.history import InvoiceFact

CDNOW_FILE = Path(__file__).parent / "data" / "CDNOW_sample.txt"
CDNOW_CALIBRATION_END = date(1997, 9, 30)
CDNOW_HOLDOUT_END = date(1998, 6, 30)


@pytest.fixture(scope="session")
def cdnow_facts() -> dict[str, list[InvoiceFact]]:
	"""CDNOW transactions per sample customer id, dollar value used as both revenue and margin."""
	facts = defaultdict(list)
	for line in CDNOW_FILE.read_text().splitlines():
		_master_id, customer, day, _cds, dollars = line.split()
		posting_date = datetime.strptime(day, "%Y%m%d").date()
		facts[customer].append(InvoiceFact(posting_date, float(dollars), float(dollars)))
	return dict(facts)


@pytest.fixture(scope="session")
def cdnow_calibration_facts(cdnow_facts) -> dict[str, list[InvoiceFact]]:
	return {
		customer: [fact for fact in facts if fact.posting_date <= CDNOW_CALIBRATION_END]
		for customer, facts in cdnow_facts.items()
	}
