frappe.query_reports["RFM Segments"] = {
	filters: [
		{ fieldname: "value_tier", label: __("Value Tier"), fieldtype: "Link", options: "Customer Value Tier" },
		{ fieldname: "customer_group", label: __("Customer Group"), fieldtype: "Link", options: "Customer Group" },
		{ fieldname: "territory", label: __("Territory"), fieldtype: "Link", options: "Territory" },
	],
};
