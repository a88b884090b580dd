"""Valuable customers at risk: the retention list a sales manager acts on.

A customer is at risk when the value model gives them a probability of still being active below the
threshold (default 50 %), or when their RFM segment is At Risk or Can't Lose Them (frequent, valuable
buyers who have gone quiet). They are ranked by the margin at risk: their gross margin over the RFM
window times the probability they are gone. Only customers the user may read are listed.
"""

import frappe
from frappe import _
from frappe.utils import flt

from crm_extension.customer_value.engine.rfm import AT_RISK, CANT_LOSE_THEM

AT_RISK_SEGMENTS = (AT_RISK, CANT_LOSE_THEM)
DEFAULT_THRESHOLD = 50
DEFAULT_LIMIT = 100
FIELDS = (
	"name",
	"customer_name",
	"value_tier",
	"rfm_segment",
	"recency_days",
	"purchase_count",
	"monetary_value",
	"gross_margin",
	"predicted_clv",
	"probability_alive",
	"avg_days_to_pay",
)


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	return get_columns(), rows, None, None, get_summary(rows)


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "customer",
			"label": _("Customer"),
			"fieldtype": "Link",
			"options": "Customer",
			"width": 180,
		},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 180},
		{
			"fieldname": "value_tier",
			"label": _("Value Tier"),
			"fieldtype": "Link",
			"options": "Customer Value Tier",
			"width": 110,
		},
		{"fieldname": "rfm_segment", "label": _("RFM Segment"), "fieldtype": "Data", "width": 140},
		{"fieldname": "recency_days", "label": _("Recency (Days)"), "fieldtype": "Int", "width": 110},
		{"fieldname": "purchase_count", "label": _("Purchase Count"), "fieldtype": "Int", "width": 110},
		{"fieldname": "monetary_value", "label": _("Monetary Value"), "fieldtype": "Currency", "width": 130},
		{"fieldname": "gross_margin", "label": _("Gross Margin"), "fieldtype": "Currency", "width": 130},
		{
			"fieldname": "probability_alive",
			"label": _("Probability Alive"),
			"fieldtype": "Percent",
			"width": 120,
		},
		{"fieldname": "margin_at_risk", "label": _("Margin at Risk"), "fieldtype": "Currency", "width": 130},
		{"fieldname": "predicted_clv", "label": _("Predicted CLV"), "fieldtype": "Currency", "width": 130},
		{
			"fieldname": "avg_days_to_pay",
			"label": _("Average Days to Pay"),
			"fieldtype": "Float",
			"width": 130,
		},
	]


def get_rows(filters) -> list[dict]:
	threshold = flt(filters.get("probability_below") or DEFAULT_THRESHOLD)
	conditions = {"gross_margin": (">", 0)}
	if filters.get("value_tier"):
		conditions["value_tier"] = filters.value_tier
	if filters.get("customer_group"):
		conditions["customer_group"] = filters.customer_group
	# frappe.get_list applies the user's permissions on Customer.
	customers = frappe.get_list(
		"Customer",
		filters=conditions,
		or_filters={"probability_alive": ("<", threshold), "rfm_segment": ("in", AT_RISK_SEGMENTS)},
		fields=list(FIELDS),
		order_by="gross_margin desc",
		limit_page_length=0,
	)
	rows = [_row(customer) for customer in customers]
	rows.sort(key=lambda row: (-row["margin_at_risk"], row["customer"]))
	return rows[: int(filters.get("limit") or DEFAULT_LIMIT)]


def _row(customer) -> dict:
	row = {key: customer.get(key) for key in FIELDS if key != "name"}
	row["customer"] = customer.name
	row["rfm_segment"] = _(customer.rfm_segment) if customer.rfm_segment else None
	row["margin_at_risk"] = flt(customer.gross_margin) * (1 - flt(customer.probability_alive) / 100)
	return row


def get_summary(rows: list[dict]) -> list[dict]:
	return [
		{"value": len(rows), "label": _("Customers at Risk"), "datatype": "Int", "indicator": "Red"},
		{
			"value": sum(row["margin_at_risk"] for row in rows),
			"label": _("Margin at Risk"),
			"datatype": "Currency",
			"indicator": "Red",
		},
	]
