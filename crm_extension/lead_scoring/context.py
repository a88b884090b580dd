"""What scoring needs from the site: rules, thresholds, trend settings and the trained model, if any."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import frappe

from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.features import FeatureSettings
from crm_extension.lead_scoring.engine.grade import GradeThresholds, TrendSettings
from crm_extension.lead_scoring.engine.linear_scorer import LinearScorer
from crm_extension.lead_scoring.engine.rules import FitRule, Rule, parse_rules

if TYPE_CHECKING:
	from crm_extension.lead_scoring.engine.model import LeadModel

SETTINGS = "Lead Scoring Settings"
_models: dict[str, tuple[str, "LeadModel"]] = {}  # site: (model version, model)


@dataclass(frozen=True)
class ScoringContext:
	rules: tuple[Rule, ...]
	thresholds: GradeThresholds
	trend: TrendSettings
	scorer: LinearScorer | None  # the trained model's weights, None while rules alone grade
	features: FeatureSettings
	notify_on_grade_a: bool

	def lead_fields(self) -> list[str]:
		"""Lead columns the rules and, when there is one, the model read."""
		fields = {"name", "creation", "lead_grade"}
		fields.update(rule.field for rule in self.rules if isinstance(rule, FitRule))
		if self.scorer:
			fields.update(self.features.categorical_fields)
			fields.update(self.features.presence_fields)
			fields.update(self.features.numeric_fields)
		return sorted(fields & set(lead_columns()))


def load_context() -> ScoringContext:
	settings = frappe.get_cached_doc(SETTINGS)
	value = partial(setting, settings)
	rows = frappe.get_all("Lead Scoring Rule", fields=["*"], order_by="name")
	return ScoringContext(
		rules=parse_rules(rule_mapping(row) for row in rows).rules,
		thresholds=GradeThresholds(
			probability_a=value("grade_a_probability") / 100,
			probability_b=value("grade_b_probability") / 100,
			probability_c=value("grade_c_probability") / 100,
			score_a=value("grade_a_score"),
			score_b=value("grade_b_score"),
			score_c=value("grade_c_score"),
		),
		trend=TrendSettings(min_score_change=value("trend_min_change")),
		scorer=stored_scorer(settings),
		features=feature_settings(),
		notify_on_grade_a=bool(value("notify_on_grade_a")),
	)


def setting(settings, fieldname: str):
	"""A settings value, or its default when the settings were never saved."""
	value = settings.get(fieldname)
	if value is None:
		default = frappe.get_meta(SETTINGS).get_field(fieldname).default
		value = frappe.utils.flt(default) if default is not None else None
	return value


def rule_mapping(row) -> dict:
	"""A Lead Scoring Rule as the engine reads it: Frappe stores an empty number as 0, which for the
	half-life, the cap and the window means "none"."""
	return {
		**row,
		"name": row.get("label"),
		"half_life_days": row.get("half_life_days") or None,
		"within_days": row.get("within_days") or None,
	}


def lead_columns() -> list[str]:
	"""The Lead's database columns (fields that hold data, and the standard ones)."""
	return frappe.get_meta("Lead").get_valid_columns()


def feature_settings() -> FeatureSettings:
	"""The engine's default features, limited to fields this site's Lead has (ERPNext calls lead_type
	`type`)."""
	columns = set(lead_columns())
	defaults = FeatureSettings()
	categorical = tuple(field for field in (*defaults.categorical_fields, "type") if field in columns)
	return FeatureSettings(
		categorical_fields=categorical,
		presence_fields=tuple(field for field in defaults.presence_fields if field in columns),
		numeric_fields=tuple(field for field in defaults.numeric_fields if field in columns),
	)


def stored_scorer(settings) -> LinearScorer | None:
	"""The trained model's weights (``engine/linear_scorer``), or None when there is no model or it cannot be
	trusted (then rules alone grade). Made from the stored model when the weights stored with it are missing
	or of another model (a model trained before the weights were stored)."""
	if not (settings.model_data and settings.model_version):
		return None
	if scorer := stored_weights(settings):
		return scorer
	model = stored_model(settings)
	if model is None:
		return None
	from crm_extension.lead_scoring.engine.model import linear_scorer

	return linear_scorer(model)


def stored_weights(settings) -> LinearScorer | None:
	"""The weights stored with the current model; None when there are none or they are another model's."""
	if not settings.model_weights:
		return None
	scorer = LinearScorer.from_dict(json.loads(settings.model_weights))
	return scorer if scorer and scorer.version == settings.model_version else None


def stored_model(settings) -> "LeadModel | None":
	"""The trained model, or None when there is none or it cannot be trusted (then rules alone grade).

	Explaining a lead needs it; scoring needs only its weights (``stored_scorer``). The model module
	(scikit-learn, 0.8 s to import) is only imported here: each background job runs in a fresh fork of its
	worker, so a scoring job would pay that every time."""
	if not (settings.model_data and settings.model_version):
		return None
	from crm_extension.lead_scoring.engine.model import load_model

	cached = _models.get(frappe.local.site)
	if cached is None or cached[0] != settings.model_version:
		# a worker keeps only the site's current model: a new one replaces the one it had
		_models.pop(frappe.local.site, None)
		try:
			cached = (settings.model_version, load_model(unsealed(settings.model_data)))
		except LeadScoringError:
			return None
		_models[frappe.local.site] = cached
	return cached[1]


MODEL_FIELDS = ("model_version", "trained_on", "model_data", "model_weights")


def model_values(model: "LeadModel") -> dict:
	"""What Lead Scoring Settings keeps of a trained model (``MODEL_FIELDS``): the sealed model and its
	weights."""
	return {
		"model_version": model.version,
		"trained_on": model.trained_on,
		"model_data": sealed(model),
		"model_weights": weights_text(model),
	}


def weights_text(model: "LeadModel") -> str:
	from crm_extension.lead_scoring.engine.model import linear_scorer

	return json.dumps(linear_scorer(model).as_dict())


def sealed(model: "LeadModel") -> str:
	"""The model's bytes with an HMAC under the site's encryption key: only a model this site trained is
	ever unpickled."""
	from crm_extension.lead_scoring.engine.model import dump_model

	data = dump_model(model)
	return base64.b64encode(_signature(data) + data).decode()


def unsealed(text: str) -> bytes:
	raw = base64.b64decode(text.encode())
	signature, data = raw[:32], raw[32:]
	if not hmac.compare_digest(signature, _signature(data)):
		from crm_extension.lead_scoring.engine.model import MODEL_UNREADABLE

		raise LeadScoringError(MODEL_UNREADABLE)
	return data


def _signature(data: bytes) -> bytes:
	# imported here: it loads passlib and cryptography (50 ms), which a rules-only scoring job never needs
	from frappe.utils.password import get_encryption_key

	return hmac.new(get_encryption_key().encode(), data, hashlib.sha256).digest()
