"""Learned win rates as plain data (JSON-ready), so they are stored once by a job and read by every guide."""

from crm_extension.sales_playbook.engine.recommend import Tally, WinRates

_PAIR_SEPARATOR = "\x1f"


def win_rates_to_data(rates: WinRates) -> dict:
	return {
		"overall": _tally(rates.overall),
		"by_technique": {key: _tally(tally) for key, tally in rates.by_technique.items()},
		"by_technique_persona": _pairs(rates.by_technique_persona),
		"by_playbook": {key: _tally(tally) for key, tally in rates.by_playbook.items()},
		"by_step": _pairs(rates.by_step),
	}


def win_rates_from_data(data: dict) -> WinRates:
	return WinRates(
		overall=Tally(*data.get("overall", (0, 0))),
		by_technique={key: Tally(*value) for key, value in data.get("by_technique", {}).items()},
		by_technique_persona=_unpairs(data.get("by_technique_persona", {})),
		by_playbook={key: Tally(*value) for key, value in data.get("by_playbook", {}).items()},
		by_step=_unpairs(data.get("by_step", {})),
	)


def _tally(tally: Tally) -> list[int]:
	return [tally.wins, tally.deals]


def _pairs(mapping) -> dict:
	return {_PAIR_SEPARATOR.join(key): _tally(tally) for key, tally in mapping.items()}


def _unpairs(data: dict) -> dict:
	return {tuple(key.split(_PAIR_SEPARATOR, 1)): Tally(*value) for key, value in data.items()}
