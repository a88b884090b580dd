"""Customers per value tier (current values on the Customer): how many, their sales and margin over the
RFM window, their predicted CLV and how likely they are still active. Only customers the user may read
are counted."""

import frappe
from frappe import _


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	return get_columns(), rows, None, get_chart(rows)


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "value_tier",
			"label": _("Value Tier"),
			"fieldtype": "Link",
			"options": "Customer Value Tier",
			"width": 130,
		},
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 100},
		{"fieldname": "share", "label": _("Share of Customers"), "fieldtype": "Percent", "width": 130},
		{"fieldname": "monetary_value", "label": _("Monetary Value"), "fieldtype": "Currency", "width": 140},
		{"fieldname": "gross_margin", "label": _("Gross Margin"), "fieldtype": "Currency", "width": 140},
		{"fieldname": "predicted_clv", "label": _("Predicted CLV"), "fieldtype": "Currency", "width": 140},
		{
			"fieldname": "avg_probability_alive",
			"label": _("Average Probability Alive"),
			"fieldtype": "Percent",
			"width": 160,
		},
	]


def get_rows(filters) -> list[dict]:
	conditions = {"value_tier": ("is", "set")}
	for field in ("customer_group", "territory"):
		if filters.get(field):
			conditions[field] = filters.get(field)
	# frappe.get_list applies the user's permissions on Customer.
	found = {
		row.value_tier: row
		for row in frappe.get_list(
			"Customer",
			filters=conditions,
			fields=[
				"value_tier",
				"count(name) as customers",
				"sum(monetary_value) as monetary_value",
				"sum(gross_margin) as gross_margin",
				"sum(predicted_clv) as predicted_clv",
				"avg(probability_alive) as avg_probability_alive",
			],
			group_by="value_tier",
			order_by="value_tier asc",
		)
	}
	total = sum(row.customers for row in found.values()) or 1
	tiers = frappe.get_all("Customer Value Tier", order_by="`rank` asc", pluck="name")
	return [_row(tier, found.get(tier), total) for tier in tiers]


def _row(tier: str, found, total: int) -> dict:
	found = found or frappe._dict(customers=0)
	return {
		"value_tier": tier,
		"customers": found.customers,
		"share": 100 * found.customers / total,
		"monetary_value": found.get("monetary_value") or 0,
		"gross_margin": found.get("gross_margin") or 0,
		"predicted_clv": found.get("predicted_clv") or 0,
		"avg_probability_alive": found.get("avg_probability_alive") or 0,
	}


def get_chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [_(row["value_tier"]) for row in rows],
			"datasets": [{"name": _("Customers"), "values": [row["customers"] for row in rows]}],
		},
		"type": "donut",
	}
