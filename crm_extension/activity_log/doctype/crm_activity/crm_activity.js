frappe.ui.form.on("CRM Activity", {
	setup(frm) {
		frm.set_query("reference_doctype", () => ({
			filters: { name: ["in", ["Lead", "Opportunity", "Customer", "Contact", "Prospect", "Quotation", "Sales Order"]] },
		}));
		frm.set_query("channel", () => ({ filters: { disabled: 0 } }));
	},
	refresh(frm) {
		if (frm.doc.follow_up_todo) {
			frm.add_custom_button(__("Follow-up To Do"), () => frappe.set_route("Form", "ToDo", frm.doc.follow_up_todo));
		}
	},
});
