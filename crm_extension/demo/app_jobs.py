"""The app's own work, as a site does it: the scoring rules a sales manager sets up, then the jobs —
train the conversion model, score the Leads, recompute customer value (with some history, so tiers can
move), rank each party's preferred channel — by calling the app's job functions in this process.

While the history is generated, saving a Lead, an email or an activity queues a follow-up job (score that
Lead, refresh that party's channel), deduplicated per document. Those jobs are held here instead of
going to the site's queue, and run once at the end in batches, by the same functions the workers call."""

from contextlib import contextmanager
from datetime import timedelta

import frappe
from frappe.utils import getdate, today

from crm_extension.demo.profiles import Profile

LEAD_SCORE_JOB = "crm_extension.lead_scoring.jobs.score_one"
CHANNEL_JOB = "crm_extension.activity_log.refresh.refresh_preferred_channel"
HISTORY_MONTHS = (6, 3, 1)  # customer value as it was these many months ago, for the tier movement

# (label in English, label in Persian, rule type, points, condition)
RULES = (
	("Has a business email", "ایمیل کاری دارد", "Fit", 10, {"field": "email_id", "operator": "is set"}),
	(
		"Came by reference",
		"با معرفی آمده",
		"Fit",
		20,
		{"field": "source", "operator": "in", "value": "Reference,Existing Customer"},
	),
	(
		"Met us at an exhibition",
		"در نمایشگاه آشنا شدیم",
		"Fit",
		10,
		{"field": "source", "operator": "equals", "value": "Exhibition"},
	),
	(
		"Large company",
		"شرکت بزرگ",
		"Fit",
		15,
		{"field": "no_of_employees", "operator": "in", "value": "201-500,501-1000,1000+"},
	),
	("Has a website", "وب‌سایت دارد", "Fit", 5, {"field": "website", "operator": "is set"}),
	(
		"Replied by email",
		"به ایمیل پاسخ داده",
		"Engagement",
		12,
		{"channel": "Email", "direction": "Inbound", "half_life_days": 30, "max_points": 36},
	),
	(
		"Wrote on a messenger",
		"در پیام‌رسان نوشته",
		"Engagement",
		8,
		{"channel": "WhatsApp", "direction": "Inbound", "half_life_days": 21, "max_points": 24},
	),
	(
		"Called us",
		"با ما تماس گرفته",
		"Engagement",
		10,
		{"channel": "Phone", "direction": "Inbound", "half_life_days": 30, "max_points": 30},
	),
	(
		"Met in person",
		"جلسه حضوری",
		"Engagement",
		15,
		{"channel": "Meeting", "half_life_days": 45, "max_points": 30},
	),
	(
		"Site visit",
		"بازدید از محل",
		"Engagement",
		15,
		{"channel": "Site Visit", "half_life_days": 60, "max_points": 30},
	),
	("Silent for a month", "یک ماه بی‌پاسخ", "Inactivity", -15, {"inactive_days": 30, "direction": "Inbound"}),
)


@contextmanager
def held_app_jobs():
	"""While generating: the app's queued follow-up jobs are collected (deduplicated by job id, as the
	queue does), everything else is queued as usual. Yields the collected jobs."""
	held: dict[str, tuple[str, dict]] = {}
	enqueue = frappe.enqueue

	def hold(method, *args, **kwargs):
		if isinstance(method, str) and method.startswith("crm_extension."):
			key = kwargs.get("job_id") or f"{method}:{len(held)}"
			held.setdefault(key, (method, {k: v for k, v in kwargs.items() if k not in QUEUE_ARGUMENTS}))
			return None
		return enqueue(method, *args, **kwargs)

	frappe.enqueue = hold
	try:
		yield held
	finally:
		frappe.enqueue = enqueue


QUEUE_ARGUMENTS = {
	"queue",
	"job_id",
	"deduplicate",
	"enqueue_after_commit",
	"timeout",
	"at_front",
	"now",
	"is_async",
}


def ensure_scoring_rules(lang: str) -> int:
	for english, persian, rule_type, points, settings in RULES:
		label = persian if lang == "fa" else english
		if not frappe.db.exists("Lead Scoring Rule", label):
			frappe.get_doc(
				{
					"doctype": "Lead Scoring Rule",
					"label": label,
					"rule_type": rule_type,
					"points": points,
					**settings,
				}
			).insert(ignore_permissions=True)
	return len(RULES)


# The manager's grade thresholds for this business: about one Lead in four converts here, so a Lead twice
# as likely as that is an A (the app's defaults, 60/35/15 %, suit a higher base rate).
GRADE_PROBABILITIES = {"grade_a_probability": 45, "grade_b_probability": 30, "grade_c_probability": 12}


def set_grade_thresholds():
	frappe.db.set_single_value("Lead Scoring Settings", GRADE_PROBABILITIES)
	frappe.clear_document_cache("Lead Scoring Settings", "Lead Scoring Settings")


def show_grades_in_lead_list():
	"""List View Settings for Lead: the grade among the columns (ERPNext's own columns crowd it out)."""
	if frappe.db.exists("List View Settings", "Lead"):
		settings = frappe.get_doc("List View Settings", "Lead")
	else:
		settings = frappe.new_doc("List View Settings")
	settings.fields = frappe.as_json(
		[
			{"fieldname": "status", "label": "Status"},
			{"fieldname": "lead_grade", "label": "Lead Grade"},
			{"fieldname": "lead_owner", "label": "Lead Owner"},
		]
	)
	settings.total_fields = "4"
	if settings.is_new():
		settings.insert(ignore_permissions=True, set_name="Lead")
	else:
		settings.save(ignore_permissions=True)


def train_model() -> dict:
	from crm_extension.lead_scoring.training import train

	return train()


def score_leads(leads: list[str]) -> int:
	"""Every generated Lead scored by the job that scores a chunk (the nightly run and the per-Lead jobs)."""
	from crm_extension.lead_scoring.jobs import CHUNK_SIZE, score_chunk

	for start in range(0, len(leads), CHUNK_SIZE):
		score_chunk(sorted(leads)[start : start + CHUNK_SIZE])
	return len(leads)


def recompute_customer_value(profile: Profile) -> dict:
	"""The company's customer value as of a few past months (history for the tier movement) and today."""
	from crm_extension.customer_value.recompute import recompute

	settings = frappe.get_single("Customer Value Settings")
	settings.company = profile.company
	settings.save(ignore_permissions=True)
	for months in HISTORY_MONTHS:
		recompute(as_of=getdate(today()) - timedelta(days=30 * months), company=profile.company)
	return recompute(company=profile.company)


def refresh_channels(parties: set[tuple[str, str]]) -> int:
	from crm_extension.activity_log.refresh import refresh_chunk

	refresh_chunk(sorted(parties))
	return len(parties)


def run_held(held: dict[str, tuple[str, dict]], skip: set[str]) -> int:
	"""The held jobs the end-of-run work does not already cover, in the order they were queued."""
	ran = 0
	for method, kwargs in list(held.values()):
		if method not in skip:
			frappe.call(method, **kwargs)
			ran += 1
	return ran


def held_parties(held: dict[str, tuple[str, dict]]) -> set[tuple[str, str]]:
	return {(kwargs["doctype"], kwargs["name"]) for method, kwargs in held.values() if method == CHANNEL_JOB}
