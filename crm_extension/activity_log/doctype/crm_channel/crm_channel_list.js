frappe.listview_settings["CRM Channel"] = {
	// The ID is the channel's English name, already shown (translated) as the title.
	hide_name_column: true,
	// Channel names are shipped records named in English; the list shows them in the user's language, as
	// the title and as a column.
	formatters: {
		channel_name: (value) => __(value),
	},
	onload() {
		frappe.meta.docfield_map["CRM Channel"].channel_name.formatter = (value) => __(value);
	},
};
