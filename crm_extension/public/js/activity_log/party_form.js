// "All Activity" on Lead, Customer, Contact and Opportunity: the unified feed, a channel filter and a
// one-tap way to log an interaction. Data and rules live on the server; this only draws them.
frappe.provide("crm_extension.activity");

crm_extension.activity.ICONS = {
	email: "mail",
	voice: "call",
	messaging: "message-1",
	meeting: "calendar",
	visit: "map",
	web: "website",
	social: "users",
	letter: "file",
	other: "small-file",
};
crm_extension.activity.PAGE_LENGTH = 20;

crm_extension.activity.Timeline = class {
	constructor(frm) {
		this.frm = frm;
		this.wrapper = $(frm.fields_dict.crm_activity_html.wrapper).empty();
		this.channel = null;
		this.items = [];
		this.make();
		this.load(true);
	}

	make() {
		this.wrapper.html(`
			<div class="crm-activity-timeline">
				<div class="crm-activity-toolbar" style="display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap">
					<div class="crm-activity-filter" style="min-width:160px;flex:1"></div>
					<button class="btn btn-primary btn-sm crm-activity-log">${__("Log Activity")}</button>
				</div>
				<div class="crm-activity-items"></div>
				<button class="btn btn-default btn-xs crm-activity-more hidden">${__("Load More")}</button>
			</div>`);
		this.filter = frappe.ui.form.make_control({
			parent: this.wrapper.find(".crm-activity-filter"),
			df: {
				fieldtype: "Link",
				options: "CRM Channel",
				fieldname: "crm_activity_channel_filter",
				placeholder: __("All channels"),
				change: () => {
					const value = this.filter.get_value() || null;
					if (value !== this.channel) {
						this.channel = value;
						this.load(true);
					}
				},
			},
			render_input: true,
		});
		this.wrapper.find(".crm-activity-log").on("click", () => crm_extension.activity.log_dialog(this.frm, () => this.load(true)));
		this.wrapper.find(".crm-activity-more").on("click", () => this.load(false));
	}

	load(reset) {
		if (reset) this.items = [];
		frappe
			.xcall("crm_extension.api.activity.timeline", {
				reference_doctype: this.frm.doctype,
				reference_name: this.frm.doc.name,
				start: this.items.length,
				page_length: crm_extension.activity.PAGE_LENGTH,
				channel: this.channel,
			})
			.then((items) => {
				this.items = this.items.concat(items);
				this.render(items.length === crm_extension.activity.PAGE_LENGTH);
			});
	}

	render(has_more) {
		const list = this.wrapper.find(".crm-activity-items");
		if (!this.items.length) {
			list.html(`<div class="text-muted">${__("No activity yet")}</div>`);
		} else {
			list.html(this.items.map((item) => this.item_html(item)).join(""));
		}
		this.wrapper.find(".crm-activity-more").toggleClass("hidden", !has_more);
	}

	item_html(item) {
		const esc = frappe.utils.escape_html;
		const icon = crm_extension.activity.ICONS[item.channel_type] || "small-file";
		const route = `/app/${frappe.router.slug(item.source_doctype)}/${encodeURIComponent(item.source_name)}`;
		const meta = [__(item.channel), __(item.direction), item.outcome ? __(item.outcome) : null]
			.filter(Boolean)
			.map(esc)
			.join(" · ");
		return `
			<div class="crm-activity-item" style="display:flex;gap:10px;padding:8px 0;border-bottom:1px solid var(--border-color)">
				<div class="text-muted">${frappe.utils.icon(icon, "md")}</div>
				<div style="flex:1;min-width:0">
					<div><a href="${route}">${esc(item.subject || __(item.source_doctype))}</a></div>
					<div class="text-muted small">${meta}</div>
					${item.summary ? `<div class="small" style="overflow-wrap:anywhere">${esc(item.summary)}</div>` : ""}
				</div>
				<div class="text-muted small" style="white-space:nowrap">${esc(comment_when(item.at))}</div>
			</div>`;
	}
};

crm_extension.activity.log_dialog = function (frm, after_log) {
	const dialog = new frappe.ui.Dialog({
		title: __("Log Activity"),
		fields: [
			{ fieldname: "channel", fieldtype: "Link", options: "CRM Channel", label: __("Channel"), reqd: 1,
				get_query: () => ({ filters: { disabled: 0 } }) },
			{ fieldname: "direction", fieldtype: "Select", label: __("Direction"), reqd: 1, default: "Outbound",
				options: [
					{ value: "Outbound", label: __("Outbound") },
					{ value: "Inbound", label: __("Inbound") },
					{ value: "Internal", label: __("Internal") },
				] },
			{ fieldname: "outcome", fieldtype: "Select", label: __("Outcome"),
				options: ["", "Completed", "No Response", "Replied", "Interested", "Not Interested", "Meeting Held", "Bounced"]
					.map((value) => ({ value, label: value ? __(value) : "" })) },
			{ fieldname: "subject", fieldtype: "Data", label: __("Subject") },
			{ fieldname: "details", fieldtype: "Small Text", label: __("Details") },
			{ fieldname: "follow_up_on", fieldtype: "Date", label: __("Follow Up On") },
		],
		primary_action_label: __("Log"),
		primary_action(values) {
			frappe
				.xcall("crm_extension.api.activity.log", {
					reference_doctype: frm.doctype,
					reference_name: frm.doc.name,
					...values,
				})
				.then(() => {
					dialog.hide();
					frappe.show_alert({ message: __("Activity logged"), indicator: "green" });
					after_log && after_log();
				});
		},
	});
	dialog.show();
};

if (!crm_extension.activity.forms_registered) {
	crm_extension.activity.forms_registered = true;
	["Lead", "Customer", "Contact", "Opportunity"].forEach((doctype) => {
		frappe.ui.form.on(doctype, {
			refresh(frm) {
				if (frm.is_new() || !frm.fields_dict.crm_activity_html) return;
				frm.crm_activity_timeline = new crm_extension.activity.Timeline(frm);
				frm.add_custom_button(__("Log Activity"), () =>
					crm_extension.activity.log_dialog(frm, () => frm.crm_activity_timeline.load(true))
				, __("Create"));
			},
		});
	});
}
