"""Customers per RFM segment (current values on the Customer), with their average recency, frequency,
monetary value, margin and predicted CLV. Only customers the user may read are counted."""

import frappe
from frappe import _

from crm_extension.customer_value.engine.rfm import SEGMENTS


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	return get_columns(), rows, None, get_chart(rows)


def get_columns() -> list[dict]:
	return [
		{"fieldname": "rfm_segment", "label": _("RFM Segment"), "fieldtype": "Data", "width": 170},
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 100},
		{"fieldname": "share", "label": _("Share of Customers"), "fieldtype": "Percent", "width": 130},
		{
			"fieldname": "avg_recency_days",
			"label": _("Average Recency (Days)"),
			"fieldtype": "Float",
			"width": 150,
		},
		{
			"fieldname": "avg_purchase_count",
			"label": _("Average Purchase Count"),
			"fieldtype": "Float",
			"width": 160,
		},
		{"fieldname": "monetary_value", "label": _("Monetary Value"), "fieldtype": "Currency", "width": 140},
		{"fieldname": "gross_margin", "label": _("Gross Margin"), "fieldtype": "Currency", "width": 140},
		{"fieldname": "predicted_clv", "label": _("Predicted CLV"), "fieldtype": "Currency", "width": 140},
	]


def get_rows(filters) -> list[dict]:
	conditions = {"rfm_segment": ("is", "set")}
	for field in ("value_tier", "customer_group", "territory"):
		if filters.get(field):
			conditions[field] = filters.get(field)
	# frappe.get_list applies the user's permissions on Customer.
	found = {
		row.rfm_segment: row
		for row in frappe.get_list(
			"Customer",
			filters=conditions,
			fields=[
				"rfm_segment",
				"count(name) as customers",
				"avg(recency_days) as avg_recency_days",
				"avg(purchase_count) as avg_purchase_count",
				"sum(monetary_value) as monetary_value",
				"sum(gross_margin) as gross_margin",
				"sum(predicted_clv) as predicted_clv",
			],
			group_by="rfm_segment",
			order_by="rfm_segment asc",
		)
	}
	total = sum(row.customers for row in found.values()) or 1
	return [_row(segment, found.get(segment), total) for segment in SEGMENTS]


def _row(segment: str, found, total: int) -> dict:
	found = found or frappe._dict(customers=0)
	return {
		"rfm_segment": _(segment),
		"customers": found.customers,
		"share": 100 * found.customers / total,
		"avg_recency_days": found.get("avg_recency_days") or 0,
		"avg_purchase_count": found.get("avg_purchase_count") or 0,
		"monetary_value": found.get("monetary_value") or 0,
		"gross_margin": found.get("gross_margin") or 0,
		"predicted_clv": found.get("predicted_clv") or 0,
	}


def get_chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [row["rfm_segment"] for row in rows],
			"datasets": [{"name": _("Customers"), "values": [row["customers"] for row in rows]}],
		},
		"type": "bar",
	}
