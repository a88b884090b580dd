// The sequence's performance on its form: a few totals, a bar chart of the reply rate per step and a table
// per step. The numbers come from the server (the "Sequence Performance" report's aggregation).
frappe.provide("crm_extension.sequences");

crm_extension.sequences.PERFORMANCE_STYLE = `
.crm-seq-perf-totals { display: flex; flex-wrap: wrap; gap: var(--margin-sm) var(--margin-lg); margin-bottom: var(--margin-md); }
.crm-seq-perf-total { min-width: 80px; }
.crm-seq-perf-total .value { font-size: var(--text-xl); font-weight: 600; color: var(--text-color); }
.crm-seq-perf-total .label { font-size: var(--text-xs); color: var(--text-muted); }
.crm-seq-perf-table { overflow-x: auto; }
.crm-seq-perf-table table { font-size: var(--text-sm); margin-bottom: var(--margin-sm); }
.crm-seq-perf-table td, .crm-seq-perf-table th { white-space: nowrap; }
.crm-seq-perf-table td.crm-seq-perf-ab { white-space: normal; min-width: 200px; color: var(--text-muted); }
.crm-seq-perf-empty { color: var(--text-muted); padding: var(--padding-sm) 0; }
`;

frappe.ui.form.on("CRM Sequence", {
	refresh(frm) {
		if (!frm.fields_dict.performance_html) return;
		const wrapper = $(frm.fields_dict.performance_html.wrapper).empty();
		if (frm.is_new()) return;
		frappe.dom.set_style(crm_extension.sequences.PERFORMANCE_STYLE, "crm-sequence-performance");
		frm.add_custom_button(__("Sequence Performance"), () =>
			frappe.set_route("query-report", "Sequence Performance", { sequence: frm.doc.name })
		);
		frappe
			.xcall("crm_extension.api.sequence.performance", { sequence: frm.doc.name })
			.then((result) => crm_extension.sequences.render_performance(wrapper, result));
	},
});

crm_extension.sequences.render_performance = function (wrapper, result) {
	const performance = result && result.performance;
	if (!performance || !performance.enrolled) {
		wrapper.html(`<div class="crm-seq-perf-empty">${__("No enrollments yet.")}</div>`);
		return;
	}
	const percent = (rate) => (rate === null || rate === undefined ? "–" : `${(100 * rate).toFixed(1)}%`);
	const totals = [
		[__("Enrolled"), performance.enrolled],
		[__("Active"), performance.active],
		[__("Finished"), performance.finished],
		[__("Emails Sent"), performance.emails_sent],
		[__("Opened"), performance.opened],
		[__("Clicked"), performance.clicked],
		[__("Replied"), performance.replied],
		[__("Reply Rate"), percent(performance.reply_rate)],
	]
		.map(([label, value]) => `<div class="crm-seq-perf-total"><div class="value">${frappe.utils.escape_html(String(value))}</div>
			<div class="label">${frappe.utils.escape_html(label)}</div></div>`)
		.join("");
	wrapper.html(`<div class="crm-seq-perf">
		<div class="crm-seq-perf-totals">${totals}</div>
		<div class="crm-seq-perf-chart"></div>
		<div class="crm-seq-perf-table">${crm_extension.sequences.steps_table(performance.steps, percent)}</div>
	</div>`);
	if (result.chart) {
		const chart = wrapper.find(".crm-seq-perf-chart");
		// a phone has no room for "1. Automatic Email" under each bar: the step's number says enough there
		const labels = chart.width() < 560 ? performance.steps.map((step) => __("Step {0}", [step.idx])) : result.chart.data.labels;
		new frappe.Chart(chart.get(0), {
			data: { ...result.chart.data, labels },
			type: "bar",
			height: 200,
			colors: result.chart.colors,
			axisOptions: { xIsSeries: 0 },
			tooltipOptions: { formatTooltipY: (value) => `${value}%` },
		});
	}
};

crm_extension.sequences.steps_table = function (steps, percent) {
	const esc = frappe.utils.escape_html;
	const head = [__("Step"), __("Executed"), __("Emails Sent"), __("Opened"), __("Clicked"), __("Replied"), __("Meetings"), __("Reply Rate"), __("A/B Result")]
		.map((label) => `<th>${esc(label)}</th>`)
		.join("");
	const rows = steps
		.map((step) => {
			const variants = step.ab
				? Object.entries(step.variants)
						.map(([variant, counts]) => {
							const ci = step.ab[variant === "A" ? "ci_a" : "ci_b"];
							const interval = ci ? ` (${percent(ci[0])} – ${percent(ci[1])})` : "";
							return `${esc(__("Variant {0}", [variant]))}: ${percent(counts.reply_rate)}${esc(interval)}`;
						})
						.concat([esc(step.ab.message)])
						.join("<br>")
				: "";
			return `<tr><td>${esc(`${step.idx}. ${__(step.step_type)}`)}</td><td>${step.executed}</td><td>${step.emails_sent}</td>
				<td>${step.opened}</td><td>${step.clicked}</td><td>${step.replied}</td><td>${step.meetings}</td>
				<td>${percent(step.reply_rate)}</td><td class="crm-seq-perf-ab">${variants}</td></tr>`;
		})
		.join("");
	return `<table class="table table-bordered"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
};
