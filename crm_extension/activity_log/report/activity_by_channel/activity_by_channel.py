"""Activities per channel, direction and salesperson over a period, with how often outbound touches got
an answer."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate

from crm_extension.activity_log.engine.preferred_channel import RESPONSE_OUTCOMES


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	chart = get_chart(rows)
	for row in rows:
		row.direction = _(row.direction)
	return get_columns(), rows, None, chart


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "channel",
			"label": _("Channel"),
			"fieldtype": "Link",
			"options": "CRM Channel",
			"width": 140,
		},
		{"fieldname": "direction", "label": _("Direction"), "fieldtype": "Data", "width": 100},
		{
			"fieldname": "performed_by",
			"label": _("Salesperson"),
			"fieldtype": "Link",
			"options": "User",
			"width": 200,
		},
		{"fieldname": "activities", "label": _("Activities"), "fieldtype": "Int", "width": 110},
		{"fieldname": "responses", "label": _("Responses"), "fieldtype": "Int", "width": 110},
		{"fieldname": "response_rate", "label": _("Response Rate %"), "fieldtype": "Percent", "width": 130},
	]


def get_rows(filters) -> list[dict]:
	if getdate(filters.from_date) > getdate(filters.to_date):
		frappe.throw(_("From Date must be before To Date"))
	conditions = {
		"activity_at": ("between", [filters.from_date, add_days(filters.to_date, 1)]),
	}
	for field in ("performed_by", "channel"):
		if filters.get(field):
			conditions[field] = filters.get(field)
	outcomes = ", ".join(frappe.db.escape(outcome) for outcome in sorted(RESPONSE_OUTCOMES))
	# frappe.get_list applies the user's permissions, so the report never counts activities they cannot see.
	rows = frappe.get_list(
		"CRM Activity",
		filters=conditions,
		fields=[
			"channel",
			"direction",
			"performed_by",
			"count(name) as activities",
			f"sum(case when outcome in ({outcomes}) then 1 else 0 end) as responses",
		],
		group_by="channel, direction, performed_by",
		order_by="channel, direction, performed_by",
	)
	for row in rows:
		row.responses = int(row.responses or 0)
		row.response_rate = 100.0 * row.responses / row.activities if row.direction == "Outbound" else None
	return rows


def get_chart(rows: list[dict]) -> dict | None:
	if not rows:
		return None
	channels = sorted({row.channel for row in rows})
	totals = {direction: dict.fromkeys(channels, 0) for direction in ("Outbound", "Inbound", "Internal")}
	for row in rows:
		totals[row.direction][row.channel] += row.activities
	return {
		"data": {
			"labels": [_(channel) for channel in channels],
			"datasets": [
				{"name": _(direction), "values": list(counts.values())}
				for direction, counts in totals.items()
			],
		},
		"type": "bar",
		"barOptions": {"stacked": True},
	}
