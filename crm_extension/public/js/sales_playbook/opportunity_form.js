// "Playbook" tab of the Opportunity: progress, the next step and its guidance, the recommended closing
// technique with its reason, tips for the buyer's persona, and "Complete Step" / "Skip Step" actions (only
// optional steps can be skipped). The server decides everything (crm_extension.api.playbook); this only draws it.
frappe.provide("crm_extension.playbook");

crm_extension.playbook.render = function (frm, guide) {
	const esc = frappe.utils.escape_html;
	const wrapper = $(frm.fields_dict.playbook_guide.wrapper).empty();
	if (!guide.playbook) {
		wrapper.html(`<div class="text-muted">${__("No playbook applies to this Opportunity")}</div>`);
		return;
	}
	const next = guide.next_step;
	const technique = guide.recommended_technique;
	const tips = guide.persona_tips;
	const list = (items) => `<ul style="margin:4px 0 0 0;padding-inline-start:18px">${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
	wrapper.html(`
		<div class="crm-playbook-guide" style="display:flex;flex-direction:column;gap:12px">
			<div>
				<div class="text-muted small">${esc(guide.playbook_title)}</div>
				<div class="progress" style="height:8px;margin-top:4px">
					<div class="progress-bar" style="width:${cint(guide.progress)}%"></div>
				</div>
				<div class="small" style="margin-top:2px">${__("{0}% of steps done", [cint(guide.progress)])}</div>
			</div>
			${guide.stalled ? `<div class="alert alert-warning" style="margin:0">${esc(guide.stalled.reason)}</div>` : ""}
			${
				next
					? `<div class="crm-playbook-next">
						<div class="text-muted small">${__("Next Step")}</div>
						<div style="font-weight:600">${esc(next.title)}</div>
						<div class="small text-muted">${esc(__(next.sales_stage))} · ${esc(__(next.channel))}${next.due_date ? " · " + __("Due {0}", [frappe.datetime.str_to_user(next.due_date)]) : ""}</div>
						<div class="small">${esc(next.reason)}</div>
						${next.guidance ? `<div style="margin-top:4px">${esc(next.guidance)}</div>` : ""}
						<div style="margin-top:8px;display:flex;gap:8px;flex-wrap:wrap">
							<button class="btn btn-primary btn-sm crm-playbook-complete">${__("Complete Step")}</button>
							${next.mandatory ? "" : `<button class="btn btn-default btn-sm crm-playbook-skip">${__("Skip Step")}</button>`}
						</div>
					</div>`
					: `<div class="text-muted">${__("Every step of the playbook is done")}</div>`
			}
			${
				technique
					? `<div class="crm-playbook-technique">
						<div class="text-muted small">${__("Recommended Closing Technique")}</div>
						<div style="font-weight:600">${esc(technique.title)}</div>
						<div class="small">${esc(technique.reason)}</div>
						${list(technique.example_lines)}
					</div>`
					: ""
			}
			${
				tips
					? `<div class="crm-playbook-persona">
						<div class="text-muted small">${__("Selling to {0}", [esc(tips.title)])}</div>
						${list(tips.how_to_sell)}
						<div class="text-muted small" style="margin-top:4px">${__("Avoid")}</div>
						${list(tips.what_to_avoid)}
					</div>`
					: ""
			}
		</div>`);
	wrapper.find(".crm-playbook-complete").on("click", () => crm_extension.playbook.complete_dialog(frm, guide));
	wrapper.find(".crm-playbook-skip").on("click", () => crm_extension.playbook.skip_dialog(frm, guide));
};

crm_extension.playbook.complete_dialog = function (frm, guide) {
	const open_steps = guide.steps.filter((step) => step.status === "Open");
	const dialog = new frappe.ui.Dialog({
		title: __("Complete Step"),
		fields: [
			{
				fieldname: "step",
				label: __("Step"),
				fieldtype: "Select",
				reqd: 1,
				options: open_steps.map((step) => ({ value: step.name, label: step.title })),
				default: guide.next_step && guide.next_step.name,
			},
			{
				fieldname: "outcome",
				label: __("Outcome"),
				fieldtype: "Select",
				options: ["", "Completed", "No Response", "Replied", "Interested", "Not Interested", "Meeting Held"].map(
					(value) => ({ value, label: __(value) })
				),
			},
			{ fieldname: "notes", label: __("Notes"), fieldtype: "Small Text" },
		],
		primary_action_label: __("Complete"),
		primary_action(values) {
			frappe
				.xcall("crm_extension.api.playbook.complete_step", { opportunity: frm.doc.name, ...values })
				.then(() => {
					dialog.hide();
					frappe.show_alert({ message: __("Step completed"), indicator: "green" });
					frm.reload_doc();
				});
		},
	});
	dialog.show();
};

crm_extension.playbook.skip_dialog = function (frm, guide) {
	const optional = guide.steps.filter((step) => step.status === "Open" && !step.mandatory);
	const next = guide.next_step && !guide.next_step.mandatory ? guide.next_step.name : optional.length ? optional[0].name : null;
	const dialog = new frappe.ui.Dialog({
		title: __("Skip Step"),
		fields: [
			{
				fieldname: "step",
				label: __("Step"),
				fieldtype: "Select",
				reqd: 1,
				options: optional.map((step) => ({ value: step.name, label: step.title })),
				default: next,
				description: __("Only optional steps can be skipped"),
			},
			{ fieldname: "reason", label: __("Reason"), fieldtype: "Small Text" },
		],
		primary_action_label: __("Skip"),
		primary_action(values) {
			frappe
				.xcall("crm_extension.api.playbook.skip_step", { opportunity: frm.doc.name, ...values })
				.then(() => {
					dialog.hide();
					frappe.show_alert({ message: __("Step skipped"), indicator: "orange" });
					frm.reload_doc();
				});
		},
	});
	dialog.show();
};

crm_extension.playbook.load = function (frm) {
	if (frm.is_new() || !frm.fields_dict.playbook_guide) return;
	frappe.xcall("crm_extension.api.playbook.guide", { opportunity: frm.doc.name }).then((guide) => {
		frm.crm_playbook_guide = guide;
		crm_extension.playbook.render(frm, guide);
		if (guide.next_step && frm.perm[0] && frm.perm[0].write) {
			frm.add_custom_button(__("Complete Step"), () => crm_extension.playbook.complete_dialog(frm, guide), __("Playbook"));
			if (guide.steps.some((step) => step.status === "Open" && !step.mandatory)) {
				frm.add_custom_button(__("Skip Step"), () => crm_extension.playbook.skip_dialog(frm, guide), __("Playbook"));
			}
		}
	});
};

frappe.ui.form.on("Opportunity", {
	refresh(frm) {
		crm_extension.playbook.load(frm);
	},
});
