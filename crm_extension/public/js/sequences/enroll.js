// The Enroll dialog, shared by the party forms' Enroll button and the Lead, Contact and Opportunity lists' bulk
// action, and the answer of a bulk enrollment (how many were enrolled, which were refused).
frappe.provide("crm_extension.sequences");

// The dialog of the form's Enroll button and of the lists' bulk action: pick an enabled sequence.
crm_extension.sequences.enroll_dialog = function (doctype, names, after, bulk = false) {
	const dialog = new frappe.ui.Dialog({
		title: __("Enroll in Sequence"),
		fields: [
			{
				fieldname: "sequence", fieldtype: "Link", options: "CRM Sequence", label: __("Sequence"), reqd: 1,
				get_query: () => ({ filters: { enabled: 1 } }),
				description: bulk ? __("{0} selected", [names.length]) : "",
			},
		],
		primary_action_label: __("Enroll"),
		primary_action: ({ sequence }) => {
			dialog.hide();
			const call = !bulk
				? frappe.xcall("crm_extension.api.sequence.enroll", { sequence, reference_doctype: doctype, reference_name: names[0] })
					.then(() => frappe.show_alert({ message: __("Enrolled in {0}", [sequence]), indicator: "green" }))
				: frappe.xcall("crm_extension.api.sequence.enroll_many", { sequence, reference_doctype: doctype, names })
					.then((result) => crm_extension.sequences.show_bulk_result(sequence, result));
			call.then(() => after && after());
		},
	});
	dialog.show();
	return dialog;
};

crm_extension.sequences.show_bulk_result = function (sequence, result) {
	const esc = frappe.utils.escape_html;
	const enrolled = (result.enrolled || []).length;
	const refused = result.refused || [];
	const lines = [`<p>${esc(__("{0} enrolled in {1}.", [enrolled, sequence]))}</p>`];
	if (refused.length) {
		lines.push(`<p>${esc(__("Refused (not found or not permitted): {0}", [refused.length]))}</p>`);
		lines.push(`<div class="crm-sequence-refused">${refused.map((name) => `<div><bdi>${esc(name)}</bdi></div>`).join("")}</div>`);
	}
	frappe.msgprint({
		title: __("Enroll in Sequence"),
		message: lines.join(""),
		indicator: refused.length ? "orange" : "green",
	});
};
