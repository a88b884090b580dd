"""The conversion model: trained on decided leads, calibrated, evaluated on the latest ones, explained.

Training (``train_model``):

1. Fewer than ``min_per_class`` converted or lost leads: no model, status ``NOT_ENOUGH_DATA`` (scores stay
   rules-only).
2. Leads are ordered by outcome time; the earliest ``1 - holdout_share`` train an evaluation model and the
   latest ``holdout_share`` measure it: AUC, Brier score, calibration bins (predicted vs observed, equal-width
   on probability) and lift by decile (best-predicted tenth first).
3. The model that is kept is then fitted on all decided leads, with the same settings.

The estimator: ``DictVectorizer`` (categorical fields one-hot) → ``log1p`` of every (non-negative) column →
standardisation → L2 logistic regression, calibrated with a sigmoid fitted on out-of-fold predictions
(``CalibratedClassifierCV(ensemble=False)``, so one linear model stays to explain).

Explanations (``explain_lead``): a factor's effect is its columns' ``coefficient × standardised value``, in
log-odds, relative to an average training lead; a categorical field's columns are summed into one factor.
Category factors compare the smoothed conversion rate of the lead's value with the overall rate.

Factor and message texts are ``N_`` templates. Their ``field`` parameter is a Lead fieldname and
``channel``, ``direction`` and ``outcome`` are feed values: the adapter shows them translated.
"""

import hashlib
import math
import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from crm_extension.i18n import N_
from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.features import (
	COUNT_PREFIX,
	DAYS_SINCE_LAST_CONTACT,
	DEFAULT_FEATURES,
	HAS_PREFIX,
	NO_CONTACT,
	NUMBER_PREFIX,
	FeatureSettings,
	OutcomeFacts,
	Row,
	feature_row,
	label_lead,
)
from crm_extension.lead_scoring.engine.linear_scorer import LinearScorer

TRAINED = "Trained"
NOT_ENOUGH_DATA = "Not Enough Data"
FORMAT_VERSION = 1
DECILES = 10

NOT_ENOUGH_LEADS = N_(
	"Too few decided leads to train a model: {positives} converted and {negatives} lost, "
	"at least {minimum} of each are needed"
)
MODEL_UNREADABLE = N_("The stored lead scoring model cannot be read; train it again")
MODEL_FROM_OTHER_LIBRARY = N_(
	"The stored lead scoring model was trained with scikit-learn {trained_with} and this site runs "
	"{installed}; train it again"
)

CATEGORY_RATE = N_("{field} {value}: {ratio}× the average conversion rate")
CATEGORY_VALUE = N_("{field} is {value}")
CATEGORY_NOT_SET = N_("{field} is not set")
FIELD_FILLED_IN = N_("{field} is filled in")
FIELD_EMPTY = N_("{field} is empty")
NUMBER_VALUE = N_("{field} is {value}")
ACTIVITIES = N_("{count} activities in the last {days} days")
CHANNEL_ACTIVITIES = N_("{count} {channel} activities in the last {days} days")
DIRECTION_ACTIVITIES = N_("{count} {direction} activities in the last {days} days")
OUTCOME_ACTIVITIES = N_("{count} activities with outcome {outcome} in the last {days} days")
LAST_CONTACT = N_("Days since the last contact: {days}")
NO_CONTACT_YET = N_("No contact yet")
COUNT_TEMPLATES = {
	"channel": CHANNEL_ACTIVITIES,
	"direction": DIRECTION_ACTIVITIES,
	"outcome": OUTCOME_ACTIVITIES,
}


@dataclass(frozen=True)
class ModelSettings:
	min_per_class: int = 40
	holdout_share: float = 0.25
	calibration_bins: int = 10
	calibration_folds: int = 3
	regularisation: float = 1.0
	random_state: int = 0
	min_category_leads: int = 10
	category_prior_leads: float = 5.0
	notable_rate_ratio: float = 1.25


DEFAULT_MODEL_SETTINGS = ModelSettings()


@dataclass(frozen=True)
class TrainingExample:
	key: str
	row: Row
	label: int
	decided_at: datetime


@dataclass(frozen=True)
class CalibrationBin:
	lower: float
	upper: float
	leads: int
	mean_predicted: float
	observed_rate: float


@dataclass(frozen=True)
class LiftRow:
	decile: int
	leads: int
	positives: int
	conversion_rate: float
	lift: float | None


@dataclass(frozen=True)
class ModelQuality:
	"""Measured on the time-ordered holdout; ``auc`` is None when the holdout holds only one class."""

	auc: float | None
	brier: float
	n_train: int
	n_holdout: int
	train_positives: int
	train_negatives: int
	holdout_positives: int
	holdout_negatives: int
	calibration: tuple[CalibrationBin, ...]
	lift: tuple[LiftRow, ...]

	def as_dict(self) -> dict[str, Any]:
		return asdict(self)


@dataclass(frozen=True)
class CategoryRate:
	leads: int
	converted: int


@dataclass(frozen=True)
class LeadModel:
	version: str
	trained_on: datetime
	feature_names: tuple[str, ...]
	vectorizer: DictVectorizer
	classifier: CalibratedClassifierCV
	quality: ModelQuality | None
	n_train: int
	positives: int
	base_rate: float
	category_rates: Mapping[str, Mapping[str, CategoryRate]]
	sklearn_version: str = sklearn.__version__


@dataclass(frozen=True)
class Message:
	template: str
	params: Mapping[str, Any]


@dataclass(frozen=True)
class TrainingResult:
	status: str
	model: LeadModel | None
	positives: int
	negatives: int
	message: Message | None = None

	@property
	def quality(self) -> ModelQuality | None:
		return self.model.quality if self.model else None


@dataclass(frozen=True)
class Factor:
	"""``effect`` > 0 pushes the lead up: log-odds for model factors, ln(rate ratio) for categories."""

	template: str
	params: Mapping[str, Any]
	effect: float


@dataclass(frozen=True)
class Explanation:
	up: tuple[Factor, ...]
	down: tuple[Factor, ...]
	categories: tuple[Factor, ...]


# --- training ---


def training_example(
	key: str,
	lead: Mapping[str, Any],
	feed: Iterable[Mapping[str, Any]],
	facts: OutcomeFacts,
	settings: FeatureSettings = DEFAULT_FEATURES,
) -> TrainingExample | None:
	"""The lead's row as known before its outcome; None for open leads and outcomes without a time."""
	label = label_lead(facts)
	if not label.is_decided or label.decided_at is None:
		return None
	row = feature_row(lead, feed, label.decided_at, settings)
	return TrainingExample(key=key, row=row, label=label.label, decided_at=label.decided_at)


def train_model(
	examples: Sequence[TrainingExample],
	trained_on: datetime,
	settings: ModelSettings = DEFAULT_MODEL_SETTINGS,
) -> TrainingResult:
	ordered = sorted(examples, key=lambda example: (example.decided_at, example.key))
	positives = sum(example.label for example in ordered)
	negatives = len(ordered) - positives
	if min(positives, negatives) < settings.min_per_class:
		return TrainingResult(
			NOT_ENOUGH_DATA, None, positives, negatives, _not_enough(positives, negatives, settings)
		)
	split = len(ordered) - math.ceil(len(ordered) * settings.holdout_share)
	quality = evaluate_holdout(ordered[:split], ordered[split:], settings)
	vectorizer, classifier = fit_classifier(ordered, settings)
	model = LeadModel(
		version=model_version(ordered, trained_on),
		trained_on=trained_on,
		feature_names=tuple(vectorizer.get_feature_names_out()),
		vectorizer=vectorizer,
		classifier=classifier,
		quality=quality,
		n_train=len(ordered),
		positives=positives,
		base_rate=positives / len(ordered),
		category_rates=category_rates(ordered),
	)
	return TrainingResult(TRAINED, model, positives, negatives)


def fit_classifier(
	examples: Sequence[TrainingExample], settings: ModelSettings = DEFAULT_MODEL_SETTINGS
) -> tuple[DictVectorizer, CalibratedClassifierCV]:
	labels = np.array([example.label for example in examples], dtype=int)
	vectorizer = DictVectorizer(sparse=False, sort=True)
	matrix = vectorizer.fit_transform([example.row for example in examples])
	folds = max(2, min(settings.calibration_folds, int(np.bincount(labels, minlength=2).min())))
	classifier = CalibratedClassifierCV(
		_linear_pipeline(settings),
		method="sigmoid",
		cv=StratifiedKFold(folds, shuffle=True, random_state=settings.random_state),
		ensemble=False,
	)
	classifier.fit(matrix, labels)
	return vectorizer, classifier


def evaluate_holdout(
	train: Sequence[TrainingExample],
	holdout: Sequence[TrainingExample],
	settings: ModelSettings = DEFAULT_MODEL_SETTINGS,
) -> ModelQuality | None:
	"""Quality of a model fitted on ``train`` and measured on ``holdout``; None when either side cannot
	support it (a class with fewer than 2 training leads, or no holdout leads)."""
	train_labels = np.array([example.label for example in train], dtype=int)
	if not holdout or np.bincount(train_labels, minlength=2).min() < 2:
		return None
	vectorizer, classifier = fit_classifier(train, settings)
	predicted = classifier.predict_proba(vectorizer.transform([example.row for example in holdout]))[:, 1]
	actual = np.array([example.label for example in holdout], dtype=int)
	return ModelQuality(
		auc=float(roc_auc_score(actual, predicted)) if 0 < actual.sum() < actual.size else None,
		brier=float(brier_score_loss(actual, predicted)),
		n_train=len(train),
		n_holdout=len(holdout),
		train_positives=int(train_labels.sum()),
		train_negatives=int(train_labels.size - train_labels.sum()),
		holdout_positives=int(actual.sum()),
		holdout_negatives=int(actual.size - actual.sum()),
		calibration=calibration_bins(predicted, actual, settings.calibration_bins),
		lift=lift_by_decile([example.key for example in holdout], predicted, actual),
	)


def calibration_bins(predicted: np.ndarray, actual: np.ndarray, bins: int = 10) -> tuple[CalibrationBin, ...]:
	"""Equal-width probability bins that hold at least one lead (1.0 falls in the last bin)."""
	edges = np.linspace(0.0, 1.0, bins + 1)
	index = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
	return tuple(
		CalibrationBin(
			lower=float(edges[number]),
			upper=float(edges[number + 1]),
			leads=int((index == number).sum()),
			mean_predicted=float(predicted[index == number].mean()),
			observed_rate=float(actual[index == number].mean()),
		)
		for number in range(bins)
		if (index == number).any()
	)


def lift_by_decile(keys: Sequence[str], predicted: np.ndarray, actual: np.ndarray) -> tuple[LiftRow, ...]:
	"""Leads by predicted probability, highest first (ties by key), in tenths as equal as possible."""
	order = sorted(range(len(keys)), key=lambda i: (-predicted[i], str(keys[i])))
	overall = float(actual.mean()) if actual.size else 0.0
	groups = [group for group in np.array_split(np.array(order, dtype=int), DECILES) if group.size]
	return tuple(_lift_row(number, actual[group], overall) for number, group in enumerate(groups, start=1))


def category_rates(examples: Sequence[TrainingExample]) -> dict[str, dict[str, CategoryRate]]:
	"""Leads and conversions per value of each categorical field."""
	counts: dict[str, dict[str, list[int]]] = {}
	for example in examples:
		for field, value in example.row.items():
			if isinstance(value, str):
				tally = counts.setdefault(field, {}).setdefault(value, [0, 0])
				tally[0] += 1
				tally[1] += example.label
	return {
		field: {value: CategoryRate(*tally) for value, tally in values.items()}
		for field, values in counts.items()
	}


def model_version(examples: Sequence[TrainingExample], trained_on: datetime) -> str:
	"""Training time and a digest of the training leads and labels: same data, same version."""
	digest = hashlib.sha256()
	for example in examples:
		digest.update(f"{example.key}\x1f{example.label}\x1f{example.decided_at.isoformat()}\x1e".encode())
	return f"{trained_on:%Y%m%d.%H%M%S}-{digest.hexdigest()[:8]}"


# --- storing and predicting ---


def dump_model(model: LeadModel) -> bytes:
	"""Bytes for the site to store; only ever load bytes this function wrote (they are a pickle)."""
	return pickle.dumps({"format": FORMAT_VERSION, "model": model}, protocol=pickle.HIGHEST_PROTOCOL)


def load_model(data: bytes) -> LeadModel:
	try:
		stored = pickle.loads(data)
	except Exception:
		raise LeadScoringError(MODEL_UNREADABLE)
	if not isinstance(stored, dict) or stored.get("format") != FORMAT_VERSION:
		raise LeadScoringError(MODEL_UNREADABLE)
	model = stored["model"]
	if model.sklearn_version != sklearn.__version__:
		params = {"trained_with": model.sklearn_version, "installed": sklearn.__version__}
		raise LeadScoringError(MODEL_FROM_OTHER_LIBRARY, params)
	return model


def predict_probabilities(model: LeadModel, rows: Sequence[Row]) -> np.ndarray:
	"""Calibrated conversion probability per feature row (columns unseen in training are ignored)."""
	if not rows:
		return np.zeros(0)
	return model.classifier.predict_proba(model.vectorizer.transform(rows))[:, 1]


def linear_parts(model: LeadModel) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float, float]:
	"""The fitted steps' numbers: logistic coefficients and intercept, the standardisation's means and
	scales (per feature, in ``feature_names`` order), and the sigmoid calibration's slope and offset
	(probability = 1 / (1 + exp(slope × decision + offset)))."""
	pipeline = _linear_model(model)
	scaler, regression = pipeline[-2], pipeline[-1]
	calibrator = model.classifier.calibrated_classifiers_[0].calibrators[0]
	return (
		regression.coef_[0],
		float(regression.intercept_[0]),
		scaler.mean_,
		scaler.scale_,
		float(calibrator.a_),
		float(calibrator.b_),
	)


def linear_scorer(model: LeadModel) -> LinearScorer:
	"""The model's calibrated log-odds as an intercept and a weight per feature on ``log1p(value)``."""
	coefficients, intercept, means, scales, slope, offset = linear_parts(model)
	# decision = intercept + Σ c (log1p(x) - mean) / scale; log-odds = -(slope × decision + offset)
	per_log1p = -slope * coefficients / scales
	constant = -(slope * (intercept - float((coefficients * means / scales).sum())) + offset)
	weights = {
		name: float(weight) for name, weight in zip(model.feature_names, per_log1p, strict=True) if weight
	}
	return LinearScorer(intercept=float(constant), weights=weights, version=model.version)


# --- explaining ---


def explain_lead(
	model: LeadModel, row: Row, limit: int = 3, settings: ModelSettings = DEFAULT_MODEL_SETTINGS
) -> Explanation:
	"""The ``limit`` strongest factors pushing the lead up and down, and its notable category rates."""
	effects = feature_effects(model, row)
	ranked = sorted(effects, key=lambda factor: -abs(factor.effect))
	return Explanation(
		up=tuple(factor for factor in ranked if factor.effect > 0)[:limit],
		down=tuple(factor for factor in ranked if factor.effect < 0)[:limit],
		categories=category_factors(model, row, settings)[:limit],
	)


def feature_effects(model: LeadModel, row: Row) -> list[Factor]:
	"""One factor per field, per counted channel / direction / outcome, and for recency."""
	pipeline = _linear_model(model)
	standardised = pipeline[:-1].transform(model.vectorizer.transform([row]))[0]
	contributions = pipeline[-1].coef_[0] * standardised
	grouped: dict[str, float] = {}
	widest: dict[str, int] = {}
	for name, contribution in zip(model.feature_names, contributions, strict=True):
		group = _factor_group(name)
		grouped[group] = grouped.get(group, 0.0) + float(contribution)
		if name.startswith(COUNT_PREFIX):
			widest[group] = max(widest.get(group, 0), _window_days(name))
	return [
		Factor(*_factor_text(group, row, widest.get(group, 0)), effect=round(effect, 3))
		for group, effect in grouped.items()
		if round(effect, 3)
	]


def category_factors(
	model: LeadModel, row: Row, settings: ModelSettings = DEFAULT_MODEL_SETTINGS
) -> tuple[Factor, ...]:
	"""Categories of the lead whose smoothed conversion rate is notably above or below the average."""
	if not 0 < model.base_rate < 1:
		return ()
	factors = []
	for field, value in row.items():
		rate = model.category_rates.get(field, {}).get(value) if isinstance(value, str) else None
		if rate is None or rate.leads < settings.min_category_leads:
			continue
		prior = settings.category_prior_leads
		ratio = (rate.converted + prior * model.base_rate) / (rate.leads + prior) / model.base_rate
		if max(ratio, 1 / ratio) >= settings.notable_rate_ratio:
			params = {"field": field, "value": value, "ratio": round(ratio, 1)}
			factors.append(Factor(CATEGORY_RATE, params, effect=round(math.log(ratio), 3)))
	return tuple(sorted(factors, key=lambda factor: -abs(factor.effect)))


# --- helpers ---


def _linear_pipeline(settings: ModelSettings) -> Pipeline:
	return make_pipeline(
		FunctionTransformer(_log1p_non_negative),
		StandardScaler(),
		LogisticRegression(C=settings.regularisation, max_iter=2000),
	)


def _log1p_non_negative(matrix: np.ndarray) -> np.ndarray:
	return np.log1p(np.maximum(matrix, 0.0))


def _linear_model(model: LeadModel) -> Pipeline:
	return model.classifier.calibrated_classifiers_[0].estimator


def _factor_group(feature_name: str) -> str:
	"""``source=Referral`` → ``source``; ``count:30d:channel:Email`` → ``count:channel:Email``."""
	if feature_name.startswith(COUNT_PREFIX):
		_prefix, _window, *rest = feature_name.split(":", 2)
		return COUNT_PREFIX + ":".join(rest)
	if feature_name == NO_CONTACT:
		return DAYS_SINCE_LAST_CONTACT
	if feature_name.startswith((HAS_PREFIX, NUMBER_PREFIX)) or feature_name == DAYS_SINCE_LAST_CONTACT:
		return feature_name
	return feature_name.split("=", 1)[0]


def _factor_text(group: str, row: Row, window_days: int) -> tuple[str, dict[str, Any]]:
	if group.startswith(COUNT_PREFIX):
		return _count_text(group.removeprefix(COUNT_PREFIX), row, window_days)
	if group == DAYS_SINCE_LAST_CONTACT:
		if row.get(NO_CONTACT):
			return NO_CONTACT_YET, {}
		return LAST_CONTACT, {"days": round(float(row.get(DAYS_SINCE_LAST_CONTACT, 0.0)))}
	if group.startswith(HAS_PREFIX):
		field = group.removeprefix(HAS_PREFIX)
		return (FIELD_FILLED_IN if row.get(group) else FIELD_EMPTY), {"field": field}
	if group.startswith(NUMBER_PREFIX):
		return NUMBER_VALUE, {"field": group.removeprefix(NUMBER_PREFIX), "value": row.get(group, 0.0)}
	if group in row:
		return CATEGORY_VALUE, {"field": group, "value": row[group]}
	return CATEGORY_NOT_SET, {"field": group}


def _count_text(counted: str, row: Row, window_days: int) -> tuple[str, dict[str, Any]]:
	"""The lead's count (0 included) in the widest window the model counts, e.g. "3 Email activities in the
	last 90 days"."""
	dimension, _, value = counted.partition(":")
	params: dict[str, Any] = {
		"count": int(row.get(f"{COUNT_PREFIX}{window_days}d:{counted}", 0)),
		"days": window_days,
	}
	if dimension in COUNT_TEMPLATES:
		params[dimension] = value
	return COUNT_TEMPLATES.get(dimension, ACTIVITIES), params


def _window_days(count_name: str) -> int:
	"""``count:30d:channel:Email`` → 30."""
	return int(count_name.split(":")[1].removesuffix("d"))


def _lift_row(decile: int, actual: np.ndarray, overall: float) -> LiftRow:
	rate = float(actual.mean())
	return LiftRow(
		decile=decile,
		leads=int(actual.size),
		positives=int(actual.sum()),
		conversion_rate=rate,
		lift=rate / overall if overall else None,
	)


def _not_enough(positives: int, negatives: int, settings: ModelSettings) -> Message:
	params = {"positives": positives, "negatives": negatives, "minimum": settings.min_per_class}
	return Message(NOT_ENOUGH_LEADS, params)
