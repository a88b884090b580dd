frappe.ui.form.on("CRM Activity", {
	setup(frm) {
		frm.set_query("reference_doctype", () => ({
			filters: { name: ["in", ["Lead", "Opportunity", "Customer", "Contact", "Prospect", "Quotation", "Sales Order"]] },
		}));
		frm.set_query("channel", () => ({ filters: { disabled: 0 } }));
	},
	refresh(frm) {
		if (!frm.is_new() && frm.doc.source === "Webhook") {
			// The server refuses any edit of a delivery; the form says so instead of offering Save.
			frm.disable_form();
			frm.set_intro(__("This activity arrived through the webhook and cannot be edited"), "blue");
		}
		if (frm.doc.unmatched && !frm.is_new()) {
			frm.add_custom_button(__("Attach to Party"), () => attach_to_party(frm));
		}
		if (frm.doc.follow_up_todo) {
			frm.add_custom_button(__("Follow-up To Do"), () => frappe.set_route("Form", "ToDo", frm.doc.follow_up_todo));
		}
	},
});

// An unmatched delivery (a sender nobody had) is filed against the party the user picks.
function attach_to_party(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Attach to Party"),
		fields: [
			{
				fieldname: "reference_doctype",
				fieldtype: "Select",
				label: __("Reference Type"),
				options: ["Lead", "Customer", "Contact", "Opportunity", "Prospect"],
				default: "Lead",
				reqd: 1,
			},
			{
				fieldname: "reference_name",
				fieldtype: "Dynamic Link",
				label: __("Reference Name"),
				options: "reference_doctype",
				reqd: 1,
			},
		],
		primary_action_label: __("Attach"),
		primary_action(values) {
			frappe
				.xcall("crm_extension.api.activity.attach_unmatched", { activity: frm.doc.name, ...values }, "POST")
				.then(() => {
					dialog.hide();
					frm.reload_doc();
				});
		},
	});
	dialog.show();
}
