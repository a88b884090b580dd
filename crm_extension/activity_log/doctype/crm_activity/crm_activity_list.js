frappe.listview_settings["CRM Activity"] = {
	add_fields: ["direction", "outcome", "channel"],
	get_indicator(doc) {
		const colours = {
			Replied: "green",
			Interested: "green",
			"Meeting Held": "green",
			Completed: "blue",
			"No Response": "orange",
			"Not Interested": "red",
			Bounced: "red",
		};
		if (doc.outcome) {
			return [__(doc.outcome), colours[doc.outcome] || "gray", `outcome,=,${doc.outcome}`];
		}
		return [__(doc.direction), "gray", `direction,=,${doc.direction}`];
	},
};
