"""Quality of the conversion model against a naive-Bayes frequency model of the kind Odoo ships.

Pure Python, no bench:
    .venv/bin/python -m benchmarks.lead_scoring.model_quality            (from the repo root)
    CRM_BENCH_QUALITY_LEADS=4000 CRM_BENCH_QUALITY_SEEDS=1 ...           (a quicker trial)
Writes benchmarks/results/lead_model_quality.json.

For each seed, ``generator.generate_leads`` makes decided leads with a known conversion process (see that
module). Training examples are built as the adapter builds them (``training.train``): the engine's
``training_example`` with the features of an ERPNext v15 site, so each row stops at the lead's outcome.
Examples are ordered by outcome time; the earliest 75% train, the latest 25% are the holdout (the split
``train_model`` uses for its own quality figures).

Compared on that holdout, fitted on the same training leads:

- **app**: the engine's ``train_model`` (calibrated logistic regression) and ``predict_probabilities``;
- **naive_bayes_fields** — the Odoo kind: for every field of the lead (the same categorical fields and
  filled-in flags the app reads; Odoo reads no activities), the number of converted and lost training leads
  with that value; a lead's probability is ``P(won) ∏ P(value | won)`` against ``P(lost) ∏ P(value | lost)``,
  each ``P(value | class)`` Laplace smoothed (``(count + 1) / (class total + values of the field + 1)``,
  the ``+ 1`` for a value never seen);
- **naive_bayes_fields_and_engagement**: the same, with the engagement the app sees turned into extra
  fields (replies in the last 7 / 30 / 90 days and meetings in 90 days bucketed, days since the last
  contact bucketed) — a stronger baseline than Odoo's, reported so the gap is not all down to Odoo
  ignoring engagement;
- **truth**: the generator's own probabilities, the ceiling no model can beat.

Reported per seed and as mean / min / max over seeds: AUC, Brier score, and the app model's calibration
bins (equal-width, ``calibration_bins`` of the engine), per seed and pooled over every seed's holdout.
Targets: app AUC ≥ naive-Bayes (Odoo kind) AUC + 0.03 on every seed; calibration within 0.05 of the
diagonal in every bin holding ≥ 50 leads. The same calibration check is run on the true probabilities:
it shows how far a perfectly calibrated model's bins stray from the diagonal by sampling alone.
"""

import json
import math
import os
import platform
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import brier_score_loss, roc_auc_score

from benchmarks.lead_scoring.generator import SITE_FEATURES, generate_leads
from crm_extension.lead_scoring.engine.features import (
	DAYS_SINCE_LAST_CONTACT,
	HAS_PREFIX,
	count_key,
)
from crm_extension.lead_scoring.engine.model import (
	DEFAULT_MODEL_SETTINGS,
	TrainingExample,
	calibration_bins,
	predict_probabilities,
	train_model,
	training_example,
)

LEADS = 20_000
SEEDS = (11, 12, 13, 14, 15)
HOLDOUT_SHARE = DEFAULT_MODEL_SETTINGS.holdout_share
AUC_MARGIN = 0.03
CALIBRATION_TOLERANCE = 0.05
CALIBRATION_MIN_LEADS = 50
TRAINED_ON = datetime(2025, 3, 1)
RESULTS = Path(__file__).resolve().parents[1] / "results" / "lead_model_quality.json"


# --- the baseline ---


class NaiveBayesFrequencies:
	"""Per-field conversion frequencies multiplied together (Odoo's predictive lead scoring, in essence).

	``fields`` turns a training row into {field: value}; every field is treated as independent given the
	outcome, each value's likelihood Laplace smoothed.
	"""

	def __init__(self, fields: Callable[[Mapping], dict[str, str]]):
		self.fields = fields

	def fit(self, rows: Sequence[Mapping], labels: Sequence[int]) -> "NaiveBayesFrequencies":
		self.class_totals = Counter(labels)
		self.counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
		for row, label in zip(rows, labels, strict=True):
			for field, value in self.fields(row).items():
				self.counts[field][value][label] += 1
		return self

	def predict(self, rows: Sequence[Mapping]) -> np.ndarray:
		total = sum(self.class_totals.values())
		prior = {label: math.log(self.class_totals[label] / total) for label in (0, 1)}
		probabilities = []
		for row in rows:
			log_odds = {label: prior[label] for label in (0, 1)}
			for field, value in self.fields(row).items():
				values = self.counts[field]
				for label in (0, 1):
					seen = values[value][label] if value in values else 0
					log_odds[label] += math.log((seen + 1) / (self.class_totals[label] + len(values) + 1))
			probabilities.append(1 / (1 + math.exp(log_odds[0] - log_odds[1])))
		return np.array(probabilities)


def lead_fields_only(row: Mapping) -> dict[str, str]:
	"""The lead's own fields, as Odoo's frequency table reads them (a missing value is its own value)."""
	fields = {field: str(row.get(field, "")) for field in SITE_FEATURES.categorical_fields}
	fields.update({field: str(row.get(HAS_PREFIX + field, 0.0)) for field in SITE_FEATURES.presence_fields})
	return fields


def lead_fields_and_engagement(row: Mapping) -> dict[str, str]:
	fields = lead_fields_only(row)
	for days in SITE_FEATURES.windows_days:
		replies = row.get(count_key(days, "direction", "Inbound"), 0.0)
		fields[f"replies_{days}d"] = _bucket(replies, (0, 1, 2, 4, 8))
	fields["meetings_90d"] = _bucket(row.get(count_key(90, "outcome", "Meeting Held"), 0.0), (0, 1, 2))
	fields["days_since_contact"] = _bucket(row.get(DAYS_SINCE_LAST_CONTACT, 365.0), (3, 7, 14, 30, 60))
	return fields


def _bucket(value: float, edges: tuple[int, ...]) -> str:
	return str(sum(value >= edge for edge in edges))


# --- one seed ---


def evaluate_seed(seed: int, leads: int) -> tuple[dict, tuple[np.ndarray, np.ndarray, np.ndarray]]:
	"""The seed's figures, and (outcomes, app probabilities, true probabilities) of its holdout."""
	started = time.perf_counter()
	generated = generate_leads(leads, seed)
	truth = {lead.key: lead.true_probability for lead in generated}
	examples = [
		training_example(lead.key, lead.lead, lead.feed, lead.facts, SITE_FEATURES) for lead in generated
	]
	ordered = sorted(examples, key=lambda example: (example.decided_at, example.key))
	split = len(ordered) - math.ceil(len(ordered) * HOLDOUT_SHARE)
	train, holdout = ordered[:split], ordered[split:]
	actual = np.array([example.label for example in holdout], dtype=int)
	generated_at = time.perf_counter()

	trained = train_model(train, TRAINED_ON)
	app = predict_probabilities(trained.model, [example.row for example in holdout])
	fitted_at = time.perf_counter()
	predictions = {
		"app": app,
		"naive_bayes_fields": _naive_bayes(lead_fields_only, train, holdout),
		"naive_bayes_fields_and_engagement": _naive_bayes(lead_fields_and_engagement, train, holdout),
		"truth": np.array([truth[example.key] for example in holdout]),
	}
	bins = calibration_bins(app, actual, DEFAULT_MODEL_SETTINGS.calibration_bins)
	summary = {
		"seed": seed,
		"leads": len(examples),
		"train": len(train),
		"holdout": len(holdout),
		"train_conversion_rate": round(sum(e.label for e in train) / len(train), 4),
		"holdout_conversion_rate": round(float(actual.mean()), 4),
		"holdout_from": min(e.decided_at for e in holdout).date().isoformat(),
		"auc": {name: round(float(roc_auc_score(actual, p)), 4) for name, p in predictions.items()},
		"brier": {name: round(float(brier_score_loss(actual, p)), 4) for name, p in predictions.items()},
		"brier_of_base_rate": round(float(actual.mean() * (1 - actual.mean())), 4),
		"app_model_features": len(trained.model.feature_names),
		"app_calibration": _bins(bins),
		"app_max_calibration_gap_in_bins_with_50_plus": _max_gap(bins),
		"truth_max_calibration_gap_in_bins_with_50_plus": _max_gap(
			calibration_bins(predictions["truth"], actual, DEFAULT_MODEL_SETTINGS.calibration_bins)
		),
		"seconds": {
			"generate_and_build_rows": round(generated_at - started, 2),
			"train_app_model": round(fitted_at - generated_at, 2),
		},
	}
	return summary, (actual, app, predictions["truth"])


def _bins(bins) -> list[dict]:
	return [
		{
			"bin": f"{b.lower:.1f}-{b.upper:.1f}",
			"leads": b.leads,
			"mean_predicted": round(b.mean_predicted, 4),
			"observed_rate": round(b.observed_rate, 4),
			"gap": round(b.observed_rate - b.mean_predicted, 4),
			"sampling_sd": round(math.sqrt(b.mean_predicted * (1 - b.mean_predicted) / b.leads), 4),
		}
		for b in bins
	]


def _max_gap(bins) -> float:
	checked = [b for b in bins if b.leads >= CALIBRATION_MIN_LEADS]
	return round(max(abs(b.observed_rate - b.mean_predicted) for b in checked), 4)


def _naive_bayes(fields, train: Sequence[TrainingExample], holdout: Sequence[TrainingExample]) -> np.ndarray:
	model = NaiveBayesFrequencies(fields).fit([e.row for e in train], [e.label for e in train])
	return model.predict([e.row for e in holdout])


# --- all seeds ---


def run(leads: int = LEADS, seeds: Sequence[int] = SEEDS) -> dict:
	evaluated = [evaluate_seed(seed, leads) for seed in seeds]
	per_seed = [summary for summary, _arrays in evaluated]
	actual, app, truth = (np.concatenate(arrays) for arrays in zip(*(a for _s, a in evaluated), strict=True))
	pooled = calibration_bins(app, actual, DEFAULT_MODEL_SETTINGS.calibration_bins)
	truth_gaps = [s["truth_max_calibration_gap_in_bins_with_50_plus"] for s in per_seed]
	margins = [s["auc"]["app"] - s["auc"]["naive_bayes_fields"] for s in per_seed]
	gaps = [s["app_max_calibration_gap_in_bins_with_50_plus"] for s in per_seed]
	return {
		"benchmark": "lead model quality: app model vs naive-Bayes frequencies on a time-ordered holdout",
		"generator": "benchmarks/lead_scoring/generator.py",
		"leads_per_seed": leads,
		"seeds": list(seeds),
		"holdout_share": HOLDOUT_SHARE,
		"summary": {
			"auc": _spread(per_seed, "auc"),
			"brier": _spread(per_seed, "brier"),
			"app_auc_minus_naive_bayes_fields": _stats(margins),
			"app_auc_minus_naive_bayes_fields_and_engagement": _stats(
				[s["auc"]["app"] - s["auc"]["naive_bayes_fields_and_engagement"] for s in per_seed]
			),
			"app_max_calibration_gap_in_bins_with_50_plus": _stats(gaps),
			"truth_max_calibration_gap_in_bins_with_50_plus": _stats(truth_gaps),
			"app_calibration_pooled_over_seeds": _bins(pooled),
			"app_max_calibration_gap_pooled_over_seeds": _max_gap(pooled),
			"truth_max_calibration_gap_pooled_over_seeds": _max_gap(
				calibration_bins(truth, actual, DEFAULT_MODEL_SETTINGS.calibration_bins)
			),
		},
		"targets": {
			"app_auc_at_least_naive_bayes_plus": AUC_MARGIN,
			"auc_target_met_on_every_seed": min(margins) >= AUC_MARGIN,
			"calibration_tolerance": CALIBRATION_TOLERANCE,
			"calibration_min_leads_per_bin": CALIBRATION_MIN_LEADS,
			"calibration_target_met_on_every_seed": max(gaps) <= CALIBRATION_TOLERANCE,
			"calibration_target_met_on_seeds": sum(gap <= CALIBRATION_TOLERANCE for gap in gaps),
			"calibration_target_met_pooled_over_seeds": _max_gap(pooled) <= CALIBRATION_TOLERANCE,
		},
		"per_seed": per_seed,
		"machine": {
			"python": platform.python_version(),
			"scikit_learn": sklearn.__version__,
			"numpy": np.__version__,
			"cpus": os.cpu_count(),
			"platform": platform.platform(),
		},
	}


def _spread(per_seed: list[dict], metric: str) -> dict:
	return {name: _stats([s[metric][name] for s in per_seed]) for name in per_seed[0][metric]}


def _stats(values: list[float]) -> dict:
	return {
		"mean": round(statistics.fmean(values), 4),
		"min": round(min(values), 4),
		"max": round(max(values), 4),
	}


def main():
	leads = int(os.environ.get("CRM_BENCH_QUALITY_LEADS") or LEADS)
	seeds = SEEDS[: int(os.environ.get("CRM_BENCH_QUALITY_SEEDS") or len(SEEDS))]
	result = run(leads, seeds)
	RESULTS.parent.mkdir(parents=True, exist_ok=True)
	RESULTS.write_text(json.dumps(result, indent=1) + "\n")
	print(json.dumps(result["summary"], indent=1))
	print(json.dumps(result["targets"], indent=1))
	print(f"written to {RESULTS}")


if __name__ == "__main__":
	main()
