frappe.query_reports["Playbook Pipeline"] = {
	filters: [
		{ fieldname: "sales_playbook", label: __("Playbook"), fieldtype: "Link", options: "Sales Playbook" },
		{ fieldname: "sales_stage", label: __("Sales Stage"), fieldtype: "Link", options: "Sales Stage" },
		{ fieldname: "opportunity_owner", label: __("Owner"), fieldtype: "Link", options: "User" },
		{ fieldname: "only_stalled", label: __("Only Stalled Deals"), fieldtype: "Check" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "days_in_stage" && data && data.stalled) {
			return `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
