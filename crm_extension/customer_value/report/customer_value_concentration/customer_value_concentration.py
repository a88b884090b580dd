"""Revenue and margin concentration (Pareto): customers ranked by net sales over the RFM window, in ten
equal groups from the best; each row shows the group's sales and margin and the cumulative share of all
sales and margin the best customers up to it bring. Only customers the user may read are counted;
customers without sales in the window are left out."""

import frappe
from frappe import _

GROUPS = 10


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	return get_columns(), rows, None, get_chart(rows)


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "customer_share",
			"label": _("Best Customers (%)"),
			"fieldtype": "Percent",
			"width": 150,
		},
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 100},
		{"fieldname": "monetary_value", "label": _("Monetary Value"), "fieldtype": "Currency", "width": 140},
		{"fieldname": "gross_margin", "label": _("Gross Margin"), "fieldtype": "Currency", "width": 140},
		{
			"fieldname": "cumulative_revenue_share",
			"label": _("Cumulative Share of Sales"),
			"fieldtype": "Percent",
			"width": 180,
		},
		{
			"fieldname": "cumulative_margin_share",
			"label": _("Cumulative Share of Margin"),
			"fieldtype": "Percent",
			"width": 180,
		},
	]


def get_rows(filters) -> list[dict]:
	conditions = {"monetary_value": (">", 0)}
	for field in ("value_tier", "customer_group", "territory"):
		if filters.get(field):
			conditions[field] = filters.get(field)
	# frappe.get_list applies the user's permissions on Customer.
	customers = frappe.get_list(
		"Customer",
		filters=conditions,
		fields=["name", "monetary_value", "gross_margin"],
		order_by="monetary_value desc, name asc",
		limit_page_length=0,
	)
	return pareto_rows([(row.monetary_value, row.gross_margin) for row in customers])


def pareto_rows(values: list[tuple[float, float]]) -> list[dict]:
	"""Rows for GROUPS equal groups of (revenue, margin) pairs already sorted by revenue, best first."""
	total = len(values)
	total_revenue = sum(revenue for revenue, _margin in values) or 1
	total_margin = sum(margin for _revenue, margin in values) or 1
	rows, start, revenue_so_far, margin_so_far = [], 0, 0.0, 0.0
	for group in range(1, min(GROUPS, total) + 1):
		end = round(total * group / min(GROUPS, total))
		revenue = sum(value[0] for value in values[start:end])
		margin = sum(value[1] for value in values[start:end])
		revenue_so_far, margin_so_far = revenue_so_far + revenue, margin_so_far + margin
		rows.append(
			{
				"customer_share": 100 * end / total,
				"customers": end - start,
				"monetary_value": revenue,
				"gross_margin": margin,
				"cumulative_revenue_share": 100 * revenue_so_far / total_revenue,
				"cumulative_margin_share": 100 * margin_so_far / total_margin,
			}
		)
		start = end
	return rows


def get_chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [f"{round(row['customer_share'])}%" for row in rows],
			"datasets": [
				{
					"name": _("Cumulative Share of Sales"),
					"values": [row["cumulative_revenue_share"] for row in rows],
				},
				{
					"name": _("Cumulative Share of Margin"),
					"values": [row["cumulative_margin_share"] for row in rows],
				},
			],
		},
		"type": "line",
	}
