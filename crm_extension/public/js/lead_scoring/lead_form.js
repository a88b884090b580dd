// Lead form: why the lead has its score (rule points and model factors) and how it moved over time.
const GRADE_COLORS = { A: "green", B: "blue", C: "orange", D: "gray" };

frappe.ui.form.on("Lead", {
	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.lead_grade) {
			frm.dashboard.add_indicator(
				__("Grade {0}", [frm.doc.lead_grade]),
				GRADE_COLORS[frm.doc.lead_grade] || "gray"
			);
		}
		render_score(frm);
	},
});

function render_score(frm) {
	const field = frm.get_field("score_factors_html");
	if (!field) return;
	const wrapper = field.$wrapper.empty();
	frappe
		.xcall("crm_extension.api.lead_scoring.explain", { lead: frm.doc.name }, "GET")
		.then((explanation) => {
			// Without a trained model there is no probability to show, only the rule score.
			frm.toggle_display("conversion_probability", Boolean(explanation.model));
			wrapper.append(factor_list(explanation));
			return frappe.xcall("crm_extension.api.lead_scoring.trend", { lead: frm.doc.name }, "GET");
		})
		.then((points) => points && points.length > 1 && wrapper.append(trend_chart(points)));
}

function factor_list(explanation) {
	const items = explanation.factors.map((factor) => factor.text);
	const model = explanation.model || {};
	const lines = [
		...items,
		...(model.up || []).map((text) => `▲ ${text}`),
		...(model.down || []).map((text) => `▼ ${text}`),
		...(model.categories || []),
	];
	if (!lines.length) {
		return $(`<p class="text-muted small">${__("No scoring rule applies to this lead yet")}</p>`);
	}
	return $(`<ul class="small crm-score-factors">${lines
		.map((line) => `<li>${frappe.utils.escape_html(line)}</li>`)
		.join("")}</ul>`);
}

function trend_chart(points) {
	const container = $(`<div class="crm-score-trend"><h6>${__("Score Trend")}</h6><div></div></div>`);
	setTimeout(() => {
		new frappe.Chart(container.find("div")[0], {
			type: "line",
			height: 180,
			data: {
				labels: points.map((point) => frappe.datetime.str_to_user(point.scored_on).split(" ")[0]),
				datasets: [{ name: __("Lead Score"), values: points.map((point) => point.score) }],
			},
		});
	}, 0);
	return container;
}
