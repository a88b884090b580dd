frappe.ui.form.on("Lead Scoring Settings", {
	setup() {
		// The model's status is stored in English, as a job wrote it; each reader sees it in their language.
		frappe.meta.docfield_map["Lead Scoring Settings"].model_status.formatter = (value) => __(value);
	},
	refresh(frm) {
		// Training and rescoring are for the managers the server lets do them (api.lead_scoring.check_manager):
		// a Sales Manager reads these settings and would only get a permission error.
		if (frappe.user.has_role(["CRM Extension Manager", "System Manager"])) add_job_buttons(frm);
		render_quality(frm);
	},
});

function add_job_buttons(frm) {
	frm.add_custom_button(__("Train Model Now"), () => {
		// Training runs on the long queue; the job's progress shows in the desk's progress bar, and the
		// form reloads when it reaches 100 %.
		frappe.xcall("crm_extension.api.lead_scoring.train", {}, "POST").then(() => {
			frappe.show_progress(__("Training the Lead Model"), 0, 100, __("Queued"), true);
			follow_training(frm);
		});
	});
	frm.add_custom_button(__("Rescore All Leads"), () => {
		frappe
			.xcall("crm_extension.api.lead_scoring.rescore_all", {}, "POST")
			.then(() => frappe.show_alert(__("All open leads are being scored")));
	});
}

function follow_training(frm) {
	const on_progress = (data) => {
		if (data.title !== __("Training the Lead Model") || flt(data.percent) < 100) return;
		frappe.realtime.off("progress", on_progress);
		frappe.hide_progress();
		frappe.show_alert({ message: data.description || __("Model trained"), indicator: "green" });
		frm.reload_doc();
	};
	frappe.realtime.on("progress", on_progress);
}

function render_quality(frm) {
	const wrapper = frm.get_field("quality_html").$wrapper.empty();
	if (!frm.doc.model_quality) {
		wrapper.html(`<p class="text-muted">${__("No model yet: grades come from the rule score alone.")}</p>`);
		return;
	}
	const quality = JSON.parse(frm.doc.model_quality);
	const calibration = $(`<div><h6>${__("Calibration: predicted vs observed conversion")}</h6><div></div></div>`);
	const lift = $(`<div><h6>${__("Lift by decile")}</h6><div></div></div>`);
	wrapper.append(calibration, lift);
	new frappe.Chart(calibration.find("div")[0], {
		type: "line",
		height: 220,
		data: {
			labels: quality.calibration.map((bin) => `${Math.round(bin.mean_predicted * 100)}%`),
			datasets: [
				{ name: __("Observed"), values: quality.calibration.map((bin) => bin.observed_rate * 100) },
				{ name: __("Predicted"), values: quality.calibration.map((bin) => bin.mean_predicted * 100) },
			],
		},
	});
	new frappe.Chart(lift.find("div")[0], {
		type: "bar",
		height: 220,
		data: {
			labels: quality.lift.map((row) => String(row.decile)),
			datasets: [{ name: __("Lift"), values: quality.lift.map((row) => row.lift || 0) }],
		},
	});
}
