frappe.query_reports["Activity by Channel"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today(), reqd: 1 },
		{ fieldname: "performed_by", label: __("Salesperson"), fieldtype: "Link", options: "User" },
		{ fieldname: "channel", label: __("Channel"), fieldtype: "Link", options: "CRM Channel" },
	],
};
