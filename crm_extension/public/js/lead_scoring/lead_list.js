// Lead list: the grade as a coloured pill beside ERPNext's own status indicator.
frappe.listview_settings["Lead"] = frappe.listview_settings["Lead"] || {};
frappe.listview_settings["Lead"].formatters = Object.assign(
	frappe.listview_settings["Lead"].formatters || {},
	{
		lead_grade(value) {
			if (!value) return "";
			const colors = { A: "green", B: "blue", C: "orange", D: "gray" };
			return `<span class="indicator-pill ${colors[value] || "gray"}">${__("Grade {0}", [value])}</span>`;
		},
	}
);
