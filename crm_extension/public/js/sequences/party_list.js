// Lead, Contact and Opportunity lists: "Enroll in Sequence" in the Actions menu of the selected rows (the
// dialog is enroll.js's; the server enrolls what the user may read and says what it refused). Added to the
// host's own listview_settings (loaded before this file), never replacing them.
frappe.provide("crm_extension.sequences");

crm_extension.sequences.add_bulk_enroll = function (doctype) {
	const settings = (frappe.listview_settings[doctype] = frappe.listview_settings[doctype] || {});
	if (settings.crm_sequences_bulk_enroll) return;
	settings.crm_sequences_bulk_enroll = true;
	const host_onload = settings.onload;
	settings.onload = function (listview) {
		host_onload && host_onload.apply(this, arguments);
		if (!frappe.model.can_create("CRM Sequence Enrollment")) return;
		listview.page.add_action_item(__("Enroll in Sequence"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) return;
			crm_extension.sequences.enroll_dialog(doctype, names, () => listview.refresh(), true);
		});
	};
};

["Lead", "Contact", "Opportunity"].forEach((doctype) => crm_extension.sequences.add_bulk_enroll(doctype));
