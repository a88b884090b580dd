frappe.listview_settings["CRM Activity"] = {
	add_fields: ["direction", "outcome", "channel"],
	onload(listview) {
		// On a phone the status column is narrow; a long outcome ("Meeting Held") is clipped, not overflowing.
		listview.page.wrapper.addClass("crm-activity-list");
		frappe.dom.set_style(
			`.crm-activity-list .list-row .level-right { flex: 0 1 auto; min-width: 0; max-width: 40%; }
			.crm-activity-list .list-row .level-right .level-item { min-width: 0; max-width: 100%; }
			.crm-activity-list .list-row .indicator-pill {
				max-width: 100%; overflow: hidden; text-overflow: ellipsis; vertical-align: middle;
			}`,
			"crm-activity-list"
		);
	},
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
