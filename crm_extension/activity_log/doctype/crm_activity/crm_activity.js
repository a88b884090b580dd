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
		if (frm.doc.follow_up_todo) {
			frm.add_custom_button(__("Follow-up To Do"), () => frappe.set_route("Form", "ToDo", frm.doc.follow_up_todo));
		}
	},
});
