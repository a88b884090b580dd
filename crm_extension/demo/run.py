"""The demo generator: ``bench --site demo.localhost execute crm_extension.demo.run.generate --kwargs
'{"lang": "en"}'`` (scripts/demo.sh runs it). Prints a line per phase with its time, and the counts.

Phases: clear the previous run's data; company calendar, team and catalogue; Leads with their emails,
calls, meetings and activities, Opportunities through the playbook, Customers; orders, deliveries,
invoices and payments in date order; then the app's jobs; then sequences with a history. Each phase is
committed when it ends (a command-line tool run through bench execute, not app code): a failure keeps what
the phases before it made, and the next run clears it anyway."""

import time
from datetime import timedelta

import frappe
from frappe.utils import getdate, today

from crm_extension.demo import (
	activities,
	app_jobs,
	catalog,
	deals,
	leads,
	people,
	reset,
	sales,
	sequences,
	site,
)
from crm_extension.demo.plan import LeadStory, plan
from crm_extension.demo.profiles import SCALES, Profile, profile_for


class Progress:
	def __init__(self):
		self.started = self.phase_started = time.monotonic()

	def phase(self, name: str):
		self.phase_started = time.monotonic()
		print(f"-- {name}", flush=True)

	def done(self, what: str):
		print(f"   {what} ({time.monotonic() - self.phase_started:.0f}s)", flush=True)
		_checkpoint()

	def note(self, what: str):
		print(f"   ... {what} ({time.monotonic() - self.phase_started:.0f}s)", flush=True)
		_checkpoint()  # a long phase commits as it goes: shorter transactions, fewer locks held

	def total(self) -> float:
		return time.monotonic() - self.started


def generate(lang: str = "en", scale: str = "full") -> dict:
	"""Make (or make again) the demo data for the language's company; returns the counts of what it made."""
	flags = frappe.flags.mute_emails, frappe.local.lang
	frappe.flags.mute_emails, frappe.local.lang = True, lang
	try:
		return _generate(profile_for(lang), SCALES[scale])
	finally:
		frappe.flags.mute_emails, frappe.local.lang = flags


def _generate(profile: Profile, sizes) -> dict:
	day = getdate(today())
	first_day = day - timedelta(days=sizes.history_days)
	progress = Progress()
	counts: dict[str, int] = {}
	with app_jobs.held_app_jobs() as held:
		progress.phase("clearing the previous demo data")
		progress.done(f"{reset.reset(profile.company)} Leads of the previous run removed")
		progress.phase("company, calendar, team and catalogue")
		team = _masters(profile, first_day, day)
		progress.done(f"{profile.company}, {len(team)} users, {len(catalog.ITEMS)} items")
		stories = plan(profile.lang, sizes, day, len(people.SALES_USERS))
		progress.phase(f"{len(stories)} Leads with their activities, deals and customers")
		purchases = _crm(stories, team, profile, counts, progress)
		progress.done(", ".join(f"{count} {what}" for what, count in counts.items()))
		progress.phase(f"{len(purchases)} orders in date order, then payments")
		sold = sales.sell(purchases, profile, first_day, day, progress.note)
		counts.update({k: v for k, v in vars(sold).items() if k != "payments"})
		progress.done(
			f"{sold.sales_orders} Sales Orders, {sold.delivery_notes} Delivery Notes, {sold.sales_invoices} "
			f"Sales Invoices ({sold.unpaid_invoices} unpaid), {sold.payment_entries} Payment Entries"
		)
		counts.update(_app_jobs(profile, held, progress))
		counts.update(_sequences(profile, sizes, team, progress))
	counts["seconds"] = round(progress.total())
	print(f"-- demo data ready in {counts['seconds']}s", flush=True)
	return counts


def _masters(profile: Profile, first_day, day) -> dict[str, str]:
	site.ensure_company(profile)
	site.ensure_fiscal_years(profile, first_day - timedelta(days=1), day)
	site.ensure_holiday_list(profile, first_day, day)
	catalog.ensure_catalog(profile)
	deals.ensure_lost_reasons(profile.lang)
	return people.ensure_team(profile)


def _crm(stories: list[LeadStory], team, profile: Profile, counts: dict, progress) -> list[sales.Purchase]:
	"""Each sales user's Leads made as that user (one switch of user each: a switch empties the request's
	caches)."""
	users = people.sales_users(team)
	purchases, done = [], 0
	for owner_index, owner in enumerate(users):
		with people.as_user(owner):
			for story in (story for story in stories if story.owner == owner_index):
				purchases += _lead_story(story, owner, profile, counts)
				done += 1
				if done % 50 == 0:
					progress.note(f"{done} of {len(stories)} Leads")
	return purchases


def _lead_story(story: LeadStory, owner: str, profile: Profile, counts: dict) -> list[sales.Purchase]:
	lead = leads.make_lead(story, owner, profile)
	_count(counts, "Leads")
	_count(
		counts,
		"activities (emails, calls, meetings, messages, visits)",
		activities.record_touches(story, lead, owner, profile.lang),
	)
	if story.outcome == "lost_lead":
		leads.give_up(story, lead)
		return []
	if not story.deal:
		return []
	opportunity = deals.make_deal(story, lead, owner, profile)
	_count(counts, "Opportunities")
	if story.outcome == "lost_deal":
		deals.lose(story, opportunity, profile)
		_count(counts, "lost")
		return []
	if story.outcome != "customer":
		return []
	customer = leads.make_customer(story, lead, profile)
	quotation = deals.quote(story, opportunity, profile)
	_count(counts, "Customers")
	first, *repeats = story.orders
	return [sales.Purchase(customer, first, quotation)] + [
		sales.Purchase(customer, order) for order in repeats
	]


def _app_jobs(profile: Profile, held: dict, progress: Progress) -> dict[str, int]:
	counts = {}
	progress.phase("the app's jobs: scoring rules, model, scores, customer value, preferred channels")
	counts["scoring rules"] = app_jobs.ensure_scoring_rules(profile.lang)
	app_jobs.set_grade_thresholds()
	app_jobs.show_grades_in_lead_list()
	model = app_jobs.train_model()
	progress.note(
		f"model {model['status']} on {model['positives']} converted / {model['negatives']} lost Leads (AUC {model['auc']})"
	)
	generated = frappe.get_all("Lead", {"company": profile.company}, pluck="name")
	counts["Leads scored"] = app_jobs.score_leads(generated)
	value = app_jobs.recompute_customer_value(profile)
	progress.note(f"customer value: {value.get('customers')} customers, tiers {value.get('tiers')}")
	customers = frappe.get_all("Customer", {"lead_name": ("in", generated or [""])}, pluck="name")
	parties = app_jobs.held_parties(held) | {("Customer", name) for name in customers}
	counts["preferred channels ranked"] = app_jobs.refresh_channels(parties)
	skip = {app_jobs.LEAD_SCORE_JOB, app_jobs.CHANNEL_JOB, "crm_extension.lead_scoring.jobs.rescore_all"}
	counts["other app jobs"] = app_jobs.run_held(held, skip)
	grades = dict(
		frappe.get_all(
			"Lead",
			{"company": profile.company},
			["lead_grade", "count(name)"],
			group_by="lead_grade",
			as_list=True,
		)
	)
	progress.done(f"grades {grades}, {counts['preferred channels ranked']} parties ranked")
	return counts


def _sequences(profile: Profile, sizes, team: dict[str, str], progress: Progress) -> dict[str, int]:
	progress.phase("sequences: templates, two sequences, enrollments and their history")
	made = sequences.make_sequences(profile, sizes, people.sales_users(team))
	progress.done(", ".join(f"{count} {what}" for what, count in made.items()))
	return made


def _count(counts: dict, what: str, number: int = 1):
	counts[what] = counts.get(what, 0) + number


def _checkpoint():
	frappe.db.commit()  # a phase of the demo's command-line generator is done (see the module docstring)
