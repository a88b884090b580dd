frappe.ui.form.on("Lead Scoring Rule", {
	onload(frm) {
		frappe
			.xcall(
				"crm_extension.lead_scoring.doctype.lead_scoring_rule.lead_scoring_rule.scorable_lead_fields"
			)
			.then((fields) => {
				frm.set_df_property("field", "options", [""].concat(fields));
			});
	},
});
