frappe.query_reports["Playbook Effectiveness"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Playbook", label: __("Playbook") },
				{ value: "Step", label: __("Step") },
				{ value: "Closing Technique", label: __("Closing Technique") },
				{ value: "Buyer Persona", label: __("Buyer Persona") },
			],
			default: "Playbook",
			reqd: 1,
		},
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.get_today(), -12) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company" },
	],
};
