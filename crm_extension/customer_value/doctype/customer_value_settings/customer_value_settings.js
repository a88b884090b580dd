frappe.ui.form.on("Customer Value Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Recompute Now"), () => {
			frappe.call({
				method: "crm_extension.api.customer_value.queue_recompute",
				args: { company: frm.doc.company || null },
				callback: () => frappe.show_alert({ message: __("Customer value recompute queued"), indicator: "blue" }),
			});
		});
	},
});
