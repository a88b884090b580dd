// Per sequence, its steps (and an A/B step's variants) and channels: enrolled, exits, emails, opens, clicks,
// replies and reply rates. The server computes everything; this only declares the filters and the tree.
frappe.query_reports["Sequence Performance"] = {
	filters: [
		{ fieldname: "sequence", label: __("Sequence"), fieldtype: "Link", options: "CRM Sequence" },
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -3),
		},
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
	initial_depth: 2,
	onload(report) {
		// Opened with a sequence in the route, the report refreshes twice and draws its chart twice; the
		// replaced chart's resize observer would still redraw into removed nodes (a removeChild error).
		const render_chart = report.render_chart.bind(report);
		report.render_chart = (options) => {
			report.chart && report.chart.destroy && report.chart.destroy();
			if (((report.page.main && report.page.main.width()) || window.innerWidth) < 560) {
				// a phone has no room for "1. Automatic Email" under each bar: the step's number says enough
				const labels = options.data.labels.map((label) => {
					const short = label.replace(/\. .*$/, "");
					return /^\d+$/.test(short) ? __("Step {0}", [short]) : short;
				});
				options = { ...options, data: { ...options.data, labels } };
			}
			render_chart(options);
		};
	},
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (data && data.indent === 0 && column.fieldname === "label") value = `<b>${value}</b>`;
		return value;
	},
};
