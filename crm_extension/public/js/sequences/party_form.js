// Sequences on Lead, Contact and Opportunity: a section at the top of the form with the document's enrollments
// (next step, when it is due, what it waits for, another sequence flag, why ended ones ended) and the Enroll,
// Pause / Resume and Unenroll actions. The server (crm_extension.api.sequence) decides and checks everything;
// this only draws its answers and asks for the sequence or the reason. The Enroll dialog is enroll.js's.
frappe.provide("crm_extension.sequences");

crm_extension.sequences.PARTY_DOCTYPES = ["Lead", "Contact", "Opportunity"];
crm_extension.sequences.ENDED_SHOWN = 3;
crm_extension.sequences.STATUS_COLORS = { Active: "green", Paused: "orange", Finished: "blue", Exited: "gray" };

crm_extension.sequences.STYLE = `
.crm-sequences-section { padding: var(--padding-md) var(--padding-lg); border-bottom: 1px solid var(--border-color); }
.crm-sequences-head { font-weight: 600; font-size: var(--text-lg); color: var(--heading-color, var(--text-color));
	display: flex; align-items: center; justify-content: space-between; gap: var(--margin-sm); }
.crm-sequence-row { padding: var(--padding-sm) 0; border-bottom: 1px solid var(--border-color); }
.crm-sequence-row:last-child { border-bottom: none; }
.crm-sequence-head { display: flex; flex-wrap: wrap; align-items: center; gap: var(--margin-xs) var(--margin-sm); }
.crm-sequence-name { font-weight: 600; color: var(--text-color); overflow-wrap: anywhere; }
.crm-sequence-lines { font-size: var(--text-sm); color: var(--text-muted); margin-top: 2px; }
.crm-sequence-lines > div { overflow-wrap: break-word; }
.crm-sequence-due { color: var(--text-color); }
.crm-sequence-actions { display: flex; flex-wrap: wrap; gap: var(--margin-xs); margin-top: var(--margin-xs); }
.crm-sequence-ended { opacity: 0.85; }
.crm-sequences-empty { color: var(--text-muted); font-size: var(--text-sm); }
`;

crm_extension.sequences.Card = class {
	constructor(frm) {
		this.frm = frm;
		frappe.dom.set_style(crm_extension.sequences.STYLE, "crm-sequences-card");
		// another document's section must not show while this one's loads
		$(frm.wrapper).find(".crm-sequences-section").not(`[data-name="${CSS.escape(frm.docname)}"]`).remove();
		this.load();
	}

	load() {
		const { doctype, docname } = this.frm;
		return frappe
			.xcall("crm_extension.api.sequence.status", { reference_doctype: doctype, reference_name: docname }, "GET")
			.then((rows) => {
				// a later refresh or another document may have replaced this form's contents meanwhile
				if (this.frm.doctype !== doctype || this.frm.docname !== docname) return;
				this.render(rows || []);
			});
	}

	render(rows) {
		$(this.frm.wrapper).find(".crm-sequences-section").remove();
		const open = rows.filter((row) => row.is_open);
		const ended = rows.filter((row) => !row.is_open).slice(0, crm_extension.sequences.ENDED_SHOWN);
		const can_enroll = frappe.model.can_create("CRM Sequence Enrollment");
		if (!open.length && !ended.length && !can_enroll) return;
		// A section at the top of the first tab (the form dashboard sits in the Connections tab in v15); not a
		// .form-section, which the layout hides when none of its fields is visible.
		const section = $(`<div class="crm-sequences-section" data-name="${frappe.utils.escape_html(this.frm.docname)}">
			<div class="crm-sequences-head"><span>${__("Sequences")}</span>
				${can_enroll ? `<button class="btn btn-default btn-xs crm-sequence-enroll">
					${frappe.utils.icon("add", "xs")} ${__("Enroll in Sequence")}</button>` : ""}</div>
			<div class="crm-sequences-card">
				${open.map((row) => crm_extension.sequences.open_html(row)).join("")}
				${ended.map((row) => crm_extension.sequences.ended_html(row)).join("")}
				${open.length || ended.length ? "" : `<div class="crm-sequences-empty">${__("Not in any sequence")}</div>`}
			</div>
		</div>`);
		const tabs = this.frm.layout.tabs || [];
		section.prependTo(tabs.length ? tabs[0].wrapper : this.frm.layout.wrapper);
		section.find(".crm-sequence-enroll").on("click", () => this.enroll());
		section.on("click", "[data-action]", (event) => {
			const row = $(event.currentTarget).closest(".crm-sequence-row");
			this[$(event.currentTarget).attr("data-action")](row.attr("data-name"), row.attr("data-sequence"));
		});
	}

	enroll() {
		crm_extension.sequences.enroll_dialog(this.frm.doctype, [this.frm.docname], () => this.load());
	}

	pause(enrollment) {
		this.call("pause", { enrollment }, __("Sequence paused"));
	}

	resume(enrollment) {
		this.call("resume", { enrollment }, __("Sequence resumed"));
	}

	unenroll(enrollment, sequence) {
		const dialog = new frappe.ui.Dialog({
			title: __("Unenroll from {0}", [sequence]),
			fields: [{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 }],
			primary_action_label: __("Unenroll"),
			primary_action: ({ reason }) => {
				dialog.hide();
				this.call("unenroll", { enrollment, reason }, __("Unenrolled"));
			},
		});
		dialog.show();
	}

	call(method, args, message) {
		return frappe.xcall(`crm_extension.api.sequence.${method}`, args).then(() => {
			frappe.show_alert({ message, indicator: "green" });
			this.load();
		});
	}
};

crm_extension.sequences.status_pill = function (row) {
	const color = crm_extension.sequences.STATUS_COLORS[row.status] || "gray";
	return `<span class="indicator-pill ${color}">${frappe.utils.escape_html(__(row.status))}</span>`;
};

crm_extension.sequences.head_html = function (row) {
	const esc = frappe.utils.escape_html;
	const route = frappe.utils.get_form_link("CRM Sequence Enrollment", row.name);
	const other = row.in_other_sequence && row.is_open
		? `<span class="indicator-pill yellow" title="${esc(__("This document is enrolled in more than one sequence"))}">${__("Also in Another Sequence")}</span>`
		: "";
	return `<div class="crm-sequence-head">
		<a class="crm-sequence-name" dir="auto" href="${route}">${esc(row.sequence)}</a>
		${crm_extension.sequences.status_pill(row)}${other}
	</div>`;
};

crm_extension.sequences.open_html = function (row) {
	const esc = frappe.utils.escape_html;
	const lines = [];
	if (row.next_step_type) {
		lines.push(esc(__("Step {0} of {1}: {2}", [row.next_step, row.total_steps, __(row.next_step_type)])));
	}
	if (row.status === "Active" && row.next_step_at) {
		const full = frappe.datetime.str_to_user(frappe.datetime.convert_to_user_tz(row.next_step_at));
		lines.push(`<span class="crm-sequence-due" title="${esc(full)}">${esc(crm_extension.sequences.due_label(row.next_step_at))}</span>`);
	}
	if (row.waiting_for) lines.push(crm_extension.sequences.waiting_html(row));
	const pause = row.status === "Paused"
		? `<button class="btn btn-default btn-xs" data-action="resume">${__("Resume")}</button>`
		: `<button class="btn btn-default btn-xs" data-action="pause">${__("Pause")}</button>`;
	return `<div class="crm-sequence-row" data-name="${esc(row.name)}" data-sequence="${esc(row.sequence)}">
		${crm_extension.sequences.head_html(row)}
		<div class="crm-sequence-lines">${lines.map((line) => `<div>${line}</div>`).join("")}</div>
		<div class="crm-sequence-actions">${pause}
			<button class="btn btn-default btn-xs" data-action="unenroll">${__("Unenroll")}</button></div>
	</div>`;
};

// What the enrollment waits for, as the server stored it: "the sending window" / "the daily email limit"
// (words to translate) or, for a paused one, "Paused by <user>" (shown with the user's full name).
crm_extension.sequences.waiting_html = function (row) {
	const esc = frappe.utils.escape_html;
	const paused_by = row.status === "Paused" && /^Paused by (\S+)$/.exec(row.waiting_for);
	const text = paused_by
		? __("Paused by {0}", [frappe.user.full_name(paused_by[1])])
		: row.status === "Paused"
			? row.waiting_for
			: __("Waiting for {0}", [__(row.waiting_for)]);
	return `<span dir="auto">${esc(text)}</span>`;
};

crm_extension.sequences.ended_html = function (row) {
	const esc = frappe.utils.escape_html;
	const when = row.exited_on
		? frappe.datetime.str_to_user(frappe.datetime.convert_to_user_tz(row.exited_on).slice(0, 10))
		: "";
	const reason = row.exit_reason ? __(row.exit_reason) : __(row.status);
	const line = when ? __("Ended on {0}: {1}", [when, reason]) : __("Ended: {0}", [reason]);
	return `<div class="crm-sequence-row crm-sequence-ended" data-name="${esc(row.name)}">
		${crm_extension.sequences.head_html(row)}
		<div class="crm-sequence-lines"><div>${esc(line)}</div></div>
	</div>`;
};

// "in 2 days": when the next step is due, from now (the full date is the title).
crm_extension.sequences.due_label = function (at) {
	const due = moment(frappe.datetime.convert_to_user_tz(at));
	const now = moment(frappe.datetime.now_datetime());
	const minutes = due.diff(now, "minutes");
	if (minutes < 1) return __("Due now");
	if (minutes < 60) return __("Due in {0} minutes", [minutes]);
	const hours = Math.round(minutes / 60);
	if (hours < 24) return hours === 1 ? __("Due in 1 hour") : __("Due in {0} hours", [hours]);
	const days = Math.round(hours / 24);
	return days === 1 ? __("Due in 1 day") : __("Due in {0} days", [days]);
};

if (!crm_extension.sequences.forms_registered) {
	crm_extension.sequences.forms_registered = true;
	crm_extension.sequences.PARTY_DOCTYPES.forEach((doctype) => {
		frappe.ui.form.on(doctype, {
			refresh(frm) {
				if (frm.is_new()) return;
				frm.crm_sequences_card = new crm_extension.sequences.Card(frm);
			},
		});
	});
}
