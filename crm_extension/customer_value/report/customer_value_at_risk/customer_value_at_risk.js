frappe.query_reports["Customer Value At Risk"] = {
	filters: [
		{
			fieldname: "probability_below",
			label: __("Probability Alive Below (%)"),
			fieldtype: "Percent",
			default: 50,
		},
		{ fieldname: "value_tier", label: __("Value Tier"), fieldtype: "Link", options: "Customer Value Tier" },
		{ fieldname: "customer_group", label: __("Customer Group"), fieldtype: "Link", options: "Customer Group" },
		{ fieldname: "limit", label: __("Show Top"), fieldtype: "Int", default: 100 },
	],
};
