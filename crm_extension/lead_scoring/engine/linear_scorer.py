"""The trained model as a sum of per-feature terms, to score many leads without building a matrix.

The model (``model.py``) is ``log1p`` of each feature column, standardised, into a logistic regression whose
decision value a sigmoid calibrates. Each step is linear in ``log1p(value)`` except the last, so the
calibrated probability of a row is ``1 / (1 + exp(-(intercept + Σ weight[feature] × log1p(value))))`` over
the features the row has: the same number scikit-learn gives (``predict_probabilities``), up to rounding.

A term per feature lets the parts of the sum come from where they are cheapest (``lead_logit``): the
lead's own fields through ``FieldTerms``, its recency, and its count features' terms, which a database can
add up for the feed items it holds (``count_terms``: ``weight × ln(1 + items counted)`` each).

``model.linear_scorer`` makes one from a trained model, and the site stores it as JSON beside the model
(``as_dict``). This module imports no scikit-learn: a scoring job (a fresh fork of its worker) scores with
the stored weights and never pays the library's import or the model's unpickling.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from crm_extension.lead_scoring.engine.decay import age_in_days
from crm_extension.lead_scoring.engine.features import (
	COUNT_PREFIX,
	HAS_PREFIX,
	NUMBER_PREFIX,
	FeatureSettings,
	Row,
	recency_from_last_contact,
)
from crm_extension.lead_scoring.engine.rules import as_number, is_set

FORMAT_VERSION = 1
# DictVectorizer's name for a text value's column: "<field>=<value>"
CATEGORY_SEPARATOR = "="
LOG_TWO = math.log(2.0)  # log1p of a one-hot 1 (a text value, a filled-in field)
COUNTED_DIMENSIONS = ("channel", "direction", "outcome")


@dataclass(frozen=True)
class CountTerm:
	"""A count feature's weight: feed items within ``days`` before the cutoff, those whose ``dimension``
	(channel, direction or outcome) is ``value``, or all of them when ``dimension`` is None."""

	days: int
	dimension: str | None
	value: str | None
	weight: float


@dataclass(frozen=True)
class FieldTerms:
	"""The weights of a lead's own fields, per field: what ``features.field_features`` makes of them, read
	straight from the lead."""

	categorical: tuple[tuple[str, Mapping[str, float]], ...]  # field, text value → weight × ln 2
	presence: tuple[tuple[str, float], ...]  # field, weight × ln 2 when it is filled in
	numeric: tuple[tuple[str, float], ...]  # field, weight on log1p(value)

	def logit(self, lead: Mapping[str, Any]) -> float:
		# is_set and str(value).strip() inlined: a full rescore calls this for every open lead. A value found
		# as it is needs no strip (the weights' values are stripped); one that is not is looked up stripped.
		total = 0.0
		for field, by_value in self.categorical:
			value = lead.get(field)
			if value.__class__ is str:
				weight = by_value.get(value)
				total += by_value.get(value.strip(), 0.0) if weight is None else weight
			elif value is not None:
				total += by_value.get(str(value).strip(), 0.0)
		for field, weight in self.presence:
			value = lead.get(field)
			if value is not None and (value.__class__ is not str or (value and not value.isspace())):
				total += weight
		for field, weight in self.numeric:
			number = as_number(lead.get(field))
			if number is not None and number > 0:
				total += weight * math.log1p(number)
		return total


@dataclass(frozen=True)
class LinearScorer:
	intercept: float
	weights: Mapping[str, float]
	version: str | None = None  # the model's

	def as_dict(self) -> dict:
		return {
			"format": FORMAT_VERSION,
			"version": self.version,
			"intercept": self.intercept,
			"weights": dict(self.weights),
		}

	@classmethod
	def from_dict(cls, data: Mapping) -> "LinearScorer | None":
		"""None for data of another format."""
		if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION:
			return None
		weights = {str(name): float(weight) for name, weight in data["weights"].items()}
		return cls(float(data["intercept"]), weights, data.get("version"))

	def logit(self, row: Row) -> float:
		"""The calibrated log-odds of a feature row (features the model never saw add nothing)."""
		return self.intercept + self.terms(row)

	def terms(self, row: Row) -> float:
		"""The sum of ``row``'s terms, without the intercept."""
		total = 0.0
		weights = self.weights
		for key, value in row.items():
			if isinstance(value, str):
				total += weights.get(key + CATEGORY_SEPARATOR + value, 0.0) * LOG_TWO
			elif value > 0:
				total += weights.get(key, 0.0) * math.log1p(value)
		return total

	@cached_property
	def count_terms(self) -> tuple[CountTerm, ...]:
		"""The count features' terms, widest window first."""
		terms = [
			_count_term(name, weight)
			for name, weight in self.weights.items()
			if name.startswith(COUNT_PREFIX)
		]
		return tuple(sorted(terms, key=lambda term: (-term.days, term.dimension or "", term.value or "")))

	def field_terms(self, settings: FeatureSettings) -> FieldTerms:
		"""The weights of the lead fields in ``settings`` (fields the model gives no weight are left out)."""
		categorical = []
		for field in settings.categorical_fields:
			prefix = field + CATEGORY_SEPARATOR
			by_value = {
				name.removeprefix(prefix): weight * LOG_TWO
				for name, weight in self.weights.items()
				if name.startswith(prefix)
			}
			if by_value:
				categorical.append((field, by_value))
		presence = [
			(field, self.weights[HAS_PREFIX + field] * LOG_TWO)
			for field in settings.presence_fields
			if HAS_PREFIX + field in self.weights
		]
		numeric = [
			(field, self.weights[NUMBER_PREFIX + field])
			for field in settings.numeric_fields
			if NUMBER_PREFIX + field in self.weights
		]
		return FieldTerms(tuple(categorical), tuple(presence), tuple(numeric))

	def term_counts(self, items: Iterable[Mapping[str, Any]], cutoff: datetime) -> list[int]:
		"""Per count term (``count_terms`` order), the ``items`` (known before ``cutoff``) it counts."""
		counts = [0] * len(self.count_terms)
		by_value = self._terms_by_value
		for item in items:
			age = age_in_days(item["at"], cutoff)
			for dimension in (None, *COUNTED_DIMENSIONS):
				value = item.get(dimension) if dimension else None
				if dimension and not is_set(value):
					continue
				for number, days in by_value.get(
					(dimension, None if value is None else str(value).strip()), ()
				):
					if age <= days:
						counts[number] += 1
		return counts

	@cached_property
	def _terms_by_value(self) -> dict[tuple[str | None, str | None], list[tuple[int, int]]]:
		"""(dimension, value) → (index in ``count_terms``, days) of the terms that count it."""
		index: dict[tuple[str | None, str | None], list[tuple[int, int]]] = {}
		for number, term in enumerate(self.count_terms):
			index.setdefault((term.dimension, term.value), []).append((number, term.days))
		return index

	def summed_counts(
		self, per_document: Iterable[Sequence[int]], items: Iterable[Mapping[str, Any]], cutoff: datetime
	) -> list[int]:
		"""Per count term, a lead's counts over its documents (``per_document``, each in ``count_terms``
		order) and over ``items`` (known before ``cutoff``)."""
		counts = self.term_counts(items, cutoff)
		for document in per_document:
			counts = [mine + theirs for mine, theirs in zip(counts, document, strict=True)]
		return counts

	def counts_logit(self, counts: Sequence[float]) -> float:
		"""The count terms' sum for per-term counts (``count_terms`` order)."""
		return sum(
			term.weight * math.log1p(count)
			for term, count in zip(self.count_terms, counts, strict=True)
			if count
		)

	def lead_logit(
		self,
		fields: FieldTerms,
		lead: Mapping[str, Any],
		counts_logit: float,
		last_contact_at: datetime | None,
		cutoff: datetime,
		settings: FeatureSettings,
	) -> float:
		"""What ``logit(feature_row(lead, feed, cutoff))`` gives, from the lead's fields (``fields``: this
		scorer's ``field_terms``), the count terms' sum over its feed and its last contact before ``cutoff``."""
		recency = recency_from_last_contact(last_contact_at, cutoff, settings)
		return self.intercept + fields.logit(lead) + counts_logit + self.terms(recency)


def probability(logit: float) -> float:
	if logit >= 0:
		return 1.0 / (1.0 + math.exp(-logit))
	odds = math.exp(logit)
	return odds / (1.0 + odds)


def _count_term(name: str, weight: float) -> CountTerm:
	"""``count:30d:channel:Email`` → 30 days, channel Email; ``count:7d:all`` → 7 days, every item."""
	_prefix, window, dimension, *value = name.split(":", 3)
	days = int(window.removesuffix("d"))
	if not value:
		return CountTerm(days, None, None, weight)
	return CountTerm(days, dimension, value[0], weight)
