// "All Activity" on Lead, Customer, Contact, Opportunity and Prospect: the party's whole history, newest first,
// grouped by day, with a channel filter and a one-tap way to log an interaction. The server decides what is in
// the feed, which document a row opens and the dialog's defaults; this only draws them.
frappe.provide("crm_extension.activity");

crm_extension.activity.PARTY_DOCTYPES = ["Lead", "Customer", "Contact", "Opportunity", "Prospect"];
crm_extension.activity.PAGE_LENGTH = 20;
// CRM Channel's channel_type (stored capitalised: "Voice"), compared in lower case.
crm_extension.activity.CHANNEL_ICONS = {
	email: "mail",
	voice: "call",
	messaging: "message-1",
	meeting: "calendar",
	visit: "map",
	web: "website",
	social: "share-people",
	letter: "file",
	other: "small-file",
};
// Host records whose kind says more than their channel.
crm_extension.activity.SOURCE_ICONS = {
	ToDo: "assign",
	Comment: "comment",
	"CRM Note": "edit",
	Quotation: "tag",
	"Sales Order": "buying",
	"Sales Invoice": "money-coins-1",
};
crm_extension.activity.DIRECTION_ICONS = { Inbound: "arrow-down-left", Outbound: "arrow-up-right" };

crm_extension.activity.STYLE = `
.crm-activity-toolbar { display: flex; gap: var(--margin-sm); align-items: center; margin-bottom: var(--margin-md); }
.crm-activity-toolbar .crm-activity-filter { width: auto; max-width: 55%; flex: 0 1 auto; }
.crm-activity-toolbar .crm-activity-log { margin-inline-start: auto; white-space: nowrap; }
.crm-activity-day { font-size: var(--text-sm); font-weight: 600; color: var(--text-muted);
	padding: var(--padding-xs) 0; margin-top: var(--margin-sm); border-bottom: 1px solid var(--border-color); }
.crm-activity-item { display: flex; gap: var(--margin-sm); padding: var(--padding-sm) var(--padding-xs);
	border-bottom: 1px solid var(--border-color); cursor: pointer; border-radius: var(--border-radius-sm); }
.crm-activity-item:hover, .crm-activity-item:focus { background: var(--fg-hover-color); outline: none; }
.crm-activity-item.crm-activity-new { background: var(--bg-light-gray, var(--fg-hover-color)); }
.crm-activity-icon { position: relative; flex: 0 0 32px; width: 32px; height: 32px; border-radius: 50%;
	display: flex; align-items: center; justify-content: center; background: var(--subtle-fg); color: var(--text-color); }
.crm-activity-direction { position: absolute; inset-inline-end: -4px; bottom: -4px; width: 16px; height: 16px;
	border-radius: 50%; display: flex; align-items: center; justify-content: center; background: var(--card-bg);
	border: 1px solid var(--border-color); }
.crm-activity-direction.inbound { color: var(--green-600); }
.crm-activity-direction.outbound { color: var(--blue-600); }
.crm-activity-body { flex: 1 1 auto; min-width: 0; }
.crm-activity-subject { display: block; color: var(--text-color); font-weight: 500; overflow-wrap: break-word; }
.crm-activity-details { color: var(--text-color); font-size: var(--text-sm); overflow-wrap: break-word;
	white-space: pre-line; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
.crm-activity-details.expanded { display: block; -webkit-line-clamp: unset; }
.crm-activity-more { font-size: var(--text-sm); }
.crm-activity-meta { display: flex; flex-wrap: wrap; column-gap: var(--margin-sm); font-size: var(--text-xs);
	color: var(--text-muted); margin-top: 2px; }
.crm-activity-meta > span { white-space: nowrap; }
.crm-activity-meta .inbound { color: var(--green-600); }
.crm-activity-meta .outbound { color: var(--blue-600); }
.crm-activity-meta .crm-activity-badge { color: var(--green-700, var(--text-color)); background: var(--green-50, var(--subtle-fg));
	border-radius: var(--border-radius-full, 999px); padding: 0 6px; }
.crm-activity-empty { padding: var(--padding-lg) 0; color: var(--text-muted); text-align: center; }
.crm-activity-footer { text-align: center; margin-top: var(--margin-md); }
`;

crm_extension.activity.Timeline = class {
	constructor(frm) {
		this.frm = frm;
		this.wrapper = $(frm.fields_dict.crm_activity_html.wrapper).empty();
		this.channel = "";
		this.items = [];
		frappe.dom.set_style(crm_extension.activity.STYLE, "crm-activity-timeline");
		this.make();
		this.load(true);
	}

	make() {
		this.wrapper.html(`
			<div class="crm-activity-timeline">
				<div class="crm-activity-toolbar">
					<select class="form-control input-xs crm-activity-filter" aria-label="${__("Channel")}">
						<option value="">${__("All channels")}</option>
					</select>
					<button class="btn btn-primary btn-sm crm-activity-log">
						${frappe.utils.icon("add", "xs")} ${__("Log Activity")}
					</button>
				</div>
				<div class="crm-activity-items"></div>
				<div class="crm-activity-footer">
					<button class="btn btn-default btn-sm crm-activity-more-items hidden">${__("Load more")}</button>
				</div>
			</div>`);
		this.fill_channels();
		this.wrapper.find(".crm-activity-filter").on("change", (event) => {
			this.channel = event.target.value;
			this.load(true);
		});
		this.wrapper.find(".crm-activity-log").on("click", () => this.log());
		this.wrapper.find(".crm-activity-more-items").on("click", () => this.load(false));
		this.wrapper.on("click", ".crm-activity-more", (event) => {
			event.stopPropagation();
			const details = $(event.currentTarget).siblings(".crm-activity-details").toggleClass("expanded");
			$(event.currentTarget).text(details.hasClass("expanded") ? __("less") : __("more"));
		});
		this.wrapper.on("click keydown", ".crm-activity-item", (event) => {
			if (event.type === "keydown" && event.key !== "Enter") return;
			if ($(event.target).closest("a").length) return;
			const row = $(event.currentTarget);
			frappe.set_route("Form", row.attr("data-doctype"), row.attr("data-name"));
		});
	}

	fill_channels() {
		frappe.db
			.get_list("CRM Channel", { filters: { disabled: 0 }, fields: ["name"], order_by: "name asc", limit: 100 })
			.then((channels) => {
				const select = this.wrapper.find(".crm-activity-filter");
				channels.forEach(({ name }) => {
					$("<option>").val(name).text(__(name)).appendTo(select);
				});
			});
	}

	log() {
		crm_extension.activity.log_dialog(this.frm, (name) => this.load(true, name));
	}

	load(reset, highlight) {
		const start = reset ? 0 : this.items.length;
		return frappe
			.xcall("crm_extension.api.activity.timeline", {
				reference_doctype: this.frm.doctype,
				reference_name: this.frm.doc.name,
				start,
				page_length: crm_extension.activity.PAGE_LENGTH,
				channel: this.channel || null,
			})
			.then((items) => {
				this.items = (reset ? [] : this.items).concat(items);
				this.render(items.length === crm_extension.activity.PAGE_LENGTH, highlight);
			});
	}

	render(has_more, highlight) {
		const list = this.wrapper.find(".crm-activity-items");
		list.html(this.items.length ? this.days_html() : this.empty_html());
		this.wrapper.find(".crm-activity-more-items").toggleClass("hidden", !has_more);
		this.show_more_links();
		if (highlight) {
			list.find(`.crm-activity-item[data-name="${CSS.escape(highlight)}"]`).addClass("crm-activity-new");
		}
	}

	// "more" under details the row clips; measured again whenever the tab is shown or resized.
	show_more_links() {
		const list = this.wrapper.find(".crm-activity-items");
		list.find(".crm-activity-details:not(.expanded)").each((_, element) => {
			const clipped = element.scrollHeight > element.clientHeight + 1;
			$(element).siblings(".crm-activity-more").toggleClass("hidden", !clipped);
		});
		if (!this.resize_observer && window.ResizeObserver) {
			this.resize_observer = new ResizeObserver(() => this.show_more_links());
			this.resize_observer.observe(list.get(0));
		}
	}

	empty_html() {
		const message = this.channel
			? __("Nothing on {0} yet. Choose All channels to see everything.", [__(this.channel)])
			: __("No activity yet. Use Log Activity to record a call, message or visit; emails, tasks and quotations show here by themselves.");
		return `<div class="crm-activity-empty">${frappe.utils.escape_html(message)}</div>`;
	}

	days_html() {
		let day = null;
		const html = [];
		this.items.forEach((item) => {
			const item_day = crm_extension.activity.user_date(item.at);
			if (item_day !== day) {
				day = item_day;
				html.push(`<div class="crm-activity-day">${frappe.utils.escape_html(crm_extension.activity.day_label(day))}</div>`);
			}
			html.push(crm_extension.activity.item_html(item));
		});
		return html.join("");
	}
};

crm_extension.activity.user_date = function (at) {
	return frappe.datetime.convert_to_user_tz(at).slice(0, 10);
};

crm_extension.activity.day_label = function (day) {
	const today = frappe.datetime.now_date();
	if (day === today) return __("Today");
	if (day === frappe.datetime.add_days(today, -1)) return __("Yesterday");
	return frappe.datetime.str_to_user(day);
};

crm_extension.activity.icon_html = function (item) {
	const icons = crm_extension.activity;
	const type = (item.channel_type || "other").toLowerCase();
	const icon = icons.SOURCE_ICONS[item.source_doctype] || icons.CHANNEL_ICONS[type] || icons.CHANNEL_ICONS.other;
	const direction = icons.DIRECTION_ICONS[item.direction];
	const badge = direction
		? `<span class="crm-activity-direction ${item.direction.toLowerCase()}">${frappe.utils.icon(direction, "xs")}</span>`
		: "";
	return `<div class="crm-activity-icon" data-icon="${icon}" title="${frappe.utils.escape_html(__(item.channel || item.source_doctype))}">
		${frappe.utils.icon(icon, "sm")}${badge}</div>`;
};

crm_extension.activity.meta_html = function (item) {
	const esc = frappe.utils.escape_html;
	const user_time = frappe.datetime.convert_to_user_tz(item.at);
	const when = item.date_only
		? `<span title="${esc(frappe.datetime.str_to_user(user_time.slice(0, 10)))}">${esc(frappe.datetime.str_to_user(user_time.slice(0, 10)))}</span>`
		: `<span class="crm-activity-when" title="${esc(frappe.datetime.str_to_user(user_time))}">${esc(frappe.datetime.prettyDate(item.at))}</span>`;
	const parts = [when];
	if (item.channel) parts.push(`<span>${esc(__(item.channel))}</span>`);
	if (item.direction && item.direction !== "Internal") {
		parts.push(`<span class="${item.direction.toLowerCase()}">${esc(__(item.direction))}</span>`);
	}
	if (item.outcome) parts.push(`<span>${esc(__(item.outcome))}</span>`);
	// a sent email the recipient opened (the host's read tracking) or whose tracked link they followed
	(item.engagement || []).forEach((badge) => {
		parts.push(`<span class="crm-activity-badge" data-engagement="${esc(badge)}">${esc(__(badge))}</span>`);
	});
	if (item.performed_by) parts.push(`<span>${esc(frappe.user_info(item.performed_by).fullname || item.performed_by)}</span>`);
	return `<div class="crm-activity-meta">${parts.join("")}</div>`;
};

crm_extension.activity.item_html = function (item) {
	const esc = frappe.utils.escape_html;
	const doctype = item.open_doctype || item.source_doctype;
	const name = item.open_name || item.source_name;
	const route = `/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}`;
	const subject = item.subject || __(item.source_doctype);
	const details = item.summary && item.summary !== item.subject ? item.summary : "";
	return `
		<div class="crm-activity-item" role="link" tabindex="0" data-doctype="${esc(doctype)}" data-name="${esc(item.source_name)}"
			data-channel-type="${esc((item.channel_type || "").toLowerCase())}" data-source="${esc(item.source_doctype)}">
			${crm_extension.activity.icon_html(item)}
			<div class="crm-activity-body">
				<a class="crm-activity-subject" dir="auto" href="${route}">${esc(subject)}</a>
				${details ? `<div class="crm-activity-details" dir="auto">${esc(details)}</div><a class="crm-activity-more hidden">${__("more")}</a>` : ""}
				${crm_extension.activity.meta_html(item)}
			</div>
		</div>`;
};

crm_extension.activity.log_dialog = function (frm, after_log) {
	frappe
		.xcall("crm_extension.api.activity.log_defaults", {
			reference_doctype: frm.doctype,
			reference_name: frm.doc.name,
		})
		.then((defaults) => crm_extension.activity.show_log_dialog(frm, defaults || {}, after_log));
};

crm_extension.activity.show_log_dialog = function (frm, defaults, after_log) {
	const dialog = new frappe.ui.Dialog({
		title: __("Log Activity"),
		fields: [
			{ fieldname: "channel", fieldtype: "Link", options: "CRM Channel", label: __("Channel"), reqd: 1,
				default: defaults.channel, get_query: () => ({ filters: { disabled: 0 } }) },
			{ fieldname: "direction", fieldtype: "Select", label: __("Direction"), reqd: 1,
				default: defaults.direction || "Outbound",
				options: [
					{ value: "Outbound", label: __("Outbound") },
					{ value: "Inbound", label: __("Inbound") },
					{ value: "Internal", label: __("Internal") },
				] },
			{ fieldname: "subject", fieldtype: "Data", label: __("Subject") },
			{ fieldname: "details", fieldtype: "Small Text", label: __("Details") },
			{ fieldname: "more_section", fieldtype: "Section Break", label: __("More"), collapsible: 1 },
			{ fieldname: "outcome", fieldtype: "Select", label: __("Outcome"),
				options: ["", "Completed", "No Response", "Replied", "Interested", "Not Interested", "Meeting Held", "Bounced"]
					.map((value) => ({ value, label: value ? __(value) : "" })) },
			{ fieldname: "activity_at", fieldtype: "Datetime", label: __("When"), default: frappe.datetime.now_datetime() },
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
				.then((name) => {
					dialog.hide();
					frappe.show_alert({ message: __("Activity logged"), indicator: "green" });
					after_log && after_log(name);
				});
		},
	});
	dialog.show();
};

if (!crm_extension.activity.forms_registered) {
	crm_extension.activity.forms_registered = true;
	crm_extension.activity.PARTY_DOCTYPES.forEach((doctype) => {
		frappe.ui.form.on(doctype, {
			refresh(frm) {
				if (frm.is_new() || !frm.fields_dict.crm_activity_html) return;
				frm.crm_activity_timeline = new crm_extension.activity.Timeline(frm);
				frm.add_custom_button(__("Log Activity"), () => frm.crm_activity_timeline.log(), __("Create"));
			},
		});
	});
}
