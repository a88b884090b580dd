// Due today: the salesperson's open sequence tasks; a row's party opens the Lead, Contact or Opportunity.
frappe.query_reports["Sequence Tasks Due"] = {
	filters: [
		{ fieldname: "due_by", label: __("Due By"), fieldtype: "Date", default: frappe.datetime.get_today(), reqd: 1 },
	],
	// The host's table is 40vw tall until it fits its rows (156 px on a phone): as tall as the window allows
	// (the host's own limit), then fitted to the rows again.
	after_datatable_render(datatable) {
		frappe.dom.set_style(
			".crm-sequence-tasks-due .dt-scrollable { height: calc(100vh - 250px); }",
			"crm-sequence-tasks-due"
		);
		datatable.datatableWrapper.classList.add("crm-sequence-tasks-due");
		datatable.style.setBodyStyle();
	},
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "party_title" && data && data.reference_doctype && data.reference_name) {
			const route = frappe.utils.get_form_link(data.reference_doctype, data.reference_name);
			return `<a href="${route}" dir="auto">${frappe.utils.escape_html(data.party_title || data.reference_name)}</a>`;
		}
		return default_formatter(value, row, column, data);
	},
};
