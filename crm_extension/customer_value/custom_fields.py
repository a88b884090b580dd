"""Fields this capability adds to the Customer (created by setup.install, removed by setup.uninstall).

All are written by the recompute job only, hence read-only and never copied to a new Customer.
"""

from crm_extension.customer_value.engine.rfm import SEGMENTS

_COMPUTED = {"read_only": 1, "no_copy": 1}


def _computed(fieldname: str, label: str, fieldtype: str, insert_after: str, **extra) -> dict:
	return {
		"fieldname": fieldname,
		"label": label,
		"fieldtype": fieldtype,
		"insert_after": insert_after,
		**_COMPUTED,
		**extra,
	}


CUSTOMER_FIELDS = [
	{
		"fieldname": "customer_value_tab",
		"label": "Customer Value",
		"fieldtype": "Tab Break",
		"insert_after": "crm_activity_html",
	},
	_computed(
		"value_tier",
		"Value Tier",
		"Link",
		"customer_value_tab",
		options="Customer Value Tier",
		in_standard_filter=1,
		description="From the predicted margin this customer will bring over the CLV horizon",
	),
	_computed(
		"rfm_segment",
		"RFM Segment",
		"Select",
		"value_tier",
		options="\n" + "\n".join(SEGMENTS),
		in_standard_filter=1,
	),
	_computed("recency_days", "Recency (Days)", "Int", "rfm_segment"),
	_computed(
		"purchase_count",
		"Purchase Count",
		"Int",
		"recency_days",
		description="Purchase days in the RFM window",
	),
	_computed(
		"monetary_value",
		"Monetary Value",
		"Currency",
		"purchase_count",
		description="Net sales in the RFM window",
	),
	{"fieldname": "customer_value_column", "fieldtype": "Column Break", "insert_after": "monetary_value"},
	_computed(
		"gross_margin",
		"Gross Margin",
		"Currency",
		"customer_value_column",
		description="Net sales less the cost of what was delivered, in the RFM window",
	),
	_computed(
		"predicted_clv",
		"Predicted CLV",
		"Currency",
		"gross_margin",
		description="Discounted margin expected over the CLV horizon",
	),
	_computed("probability_alive", "Probability Alive", "Percent", "predicted_clv"),
	_computed("avg_days_to_pay", "Average Days to Pay", "Float", "probability_alive", precision="1"),
	_computed("value_updated_on", "Value Updated On", "Datetime", "avg_days_to_pay"),
	{
		"fieldname": "customer_value_chart_section",
		"label": "Purchase History",
		"fieldtype": "Section Break",
		"insert_after": "value_updated_on",
	},
	{
		"fieldname": "customer_value_chart",
		"fieldtype": "HTML",
		"insert_after": "customer_value_chart_section",
	},
	# A tier that names a Customer Group moves its customers there (customer_groups.py): the customer's own
	# group and the one the app chose, so it can go back. Hidden, written by the app only.
	_computed(
		"crm_original_customer_group",
		"Own Customer Group",
		"Link",
		"customer_value_chart",
		options="Customer Group",
		hidden=1,
	),
	_computed(
		"crm_synced_customer_group",
		"Customer Group Set by Value Tier",
		"Link",
		"crm_original_customer_group",
		options="Customer Group",
		hidden=1,
	),
]

CUSTOM_FIELDS = {"Customer": CUSTOMER_FIELDS}

# The values the recompute job writes on the Customer (all of CUSTOMER_FIELDS except layout).
VALUE_FIELDNAMES = (
	"value_tier",
	"rfm_segment",
	"recency_days",
	"purchase_count",
	"monetary_value",
	"gross_margin",
	"predicted_clv",
	"probability_alive",
	"avg_days_to_pay",
	"value_updated_on",
)
