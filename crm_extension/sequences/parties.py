"""What a sequence needs to know about the documents it enrolls, read set-based from the host's tables."""

from dataclasses import dataclass

import frappe

ENROLLABLE_DOCTYPES = ("Lead", "Contact", "Opportunity")


@dataclass
class Party:
	doctype: str
	name: str
	title: str
	email: str | None
	timezone: str | None
	preferred_channel_type: str | None
	owner: str | None
	company: str | None


def load_parties(refs: list[tuple[str, str]]) -> dict[tuple[str, str], Party]:
	"""One query per DocType for every (doctype, name) in refs."""
	parties: dict[tuple[str, str], Party] = {}
	by_doctype: dict[str, list[str]] = {}
	for doctype, name in refs:
		by_doctype.setdefault(doctype, []).append(name)
	for doctype, names in by_doctype.items():
		loader = LOADERS.get(doctype)
		if loader:
			parties.update({(doctype, party.name): party for party in loader(names)})
	_add_preferred_channel_types(parties.values())
	_add_timezones(parties.values())
	return parties


def load_party(doctype: str, name: str) -> Party | None:
	return load_parties([(doctype, name)]).get((doctype, name))


def _leads(names: list[str]) -> list[Party]:
	rows = frappe.get_all(
		"Lead",
		filters={"name": ("in", names)},
		fields=[
			"name",
			"lead_name",
			"company_name",
			"email_id",
			"country",
			"preferred_channel",
			"lead_owner",
			"company",
		],
		order_by=None,
	)
	return [
		Party(
			"Lead",
			row.name,
			row.lead_name or row.company_name or row.name,
			row.email_id,
			row.country,  # resolved to a time zone below
			row.preferred_channel,  # resolved to a channel type below
			row.lead_owner,
			row.company,
		)
		for row in rows
	]


def _contacts(names: list[str]) -> list[Party]:
	rows = frappe.get_all(
		"Contact",
		filters={"name": ("in", names)},
		fields=["name", "full_name", "email_id", "preferred_channel", "owner"],
		order_by=None,
	)
	return [
		Party(
			"Contact",
			row.name,
			row.full_name or row.name,
			row.email_id,
			None,
			row.preferred_channel,
			None,
			None,
		)
		for row in rows
	]


def _opportunities(names: list[str]) -> list[Party]:
	rows = frappe.get_all(
		"Opportunity",
		filters={"name": ("in", names)},
		fields=[
			"name",
			"title",
			"customer_name",
			"contact_email",
			"opportunity_from",
			"party_name",
			"opportunity_owner",
			"company",
		],
		order_by=None,
	)
	leads = _by_name("Lead", {r.party_name for r in rows if r.opportunity_from == "Lead"}, LEAD_FACTS)
	customers = _by_name(
		"Customer", {r.party_name for r in rows if r.opportunity_from == "Customer"}, ["preferred_channel"]
	)
	parties = []
	for row in rows:
		party = (leads if row.opportunity_from == "Lead" else customers).get(row.party_name) or {}
		parties.append(
			Party(
				"Opportunity",
				row.name,
				row.title or row.customer_name or row.name,
				row.contact_email or party.get("email_id"),
				party.get("country"),
				party.get("preferred_channel"),
				row.opportunity_owner,
				row.company,
			)
		)
	return parties


LEAD_FACTS = ["email_id", "country", "preferred_channel"]


def _by_name(doctype: str, names: set[str], fields: list[str]) -> dict[str, dict]:
	if not names:
		return {}
	rows = frappe.get_all(
		doctype, filters={"name": ("in", list(names))}, fields=["name", *fields], order_by=None
	)
	return {row.name: row for row in rows}


LOADERS = {"Lead": _leads, "Contact": _contacts, "Opportunity": _opportunities}


def _add_preferred_channel_types(parties):
	"""``preferred_channel`` holds a CRM Channel; the sequence needs its type (email, voice, messaging ...)."""
	channels = {party.preferred_channel_type for party in parties if party.preferred_channel_type}
	types = (
		dict(
			frappe.get_all(
				"CRM Channel",
				filters={"name": ("in", list(channels)), "disabled": 0},
				fields=["name", "channel_type"],
				as_list=True,
				order_by=None,
			)
		)
		if channels
		else {}
	)
	for party in parties:
		party.preferred_channel_type = types.get(party.preferred_channel_type)


def _add_timezones(parties):
	"""A party's time zone is known when its country has exactly one (ERPNext's Country.time_zones)."""
	countries = {party.timezone for party in parties if party.timezone}
	zones = {}
	if countries:
		for name, time_zones in frappe.get_all(
			"Country",
			filters={"name": ("in", list(countries))},
			fields=["name", "time_zones"],
			as_list=True,
			order_by=None,
		):
			listed = [zone.strip() for zone in (time_zones or "").splitlines() if zone.strip()]
			zones[name] = listed[0] if len(listed) == 1 else None
	for party in parties:
		party.timezone = zones.get(party.timezone)
