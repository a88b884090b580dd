// "Customer Value" tab on the Customer: tier badge and a small chart of the last 12 months' sales and
// margin. Values and rules live on the server (api/customer_value.profile); this only draws them.
frappe.provide("crm_extension.customer_value");

crm_extension.customer_value.render = function (frm) {
	const field = frm.fields_dict.customer_value_chart;
	if (!field || frm.is_new()) return;
	const wrapper = $(field.wrapper).empty();
	// A form refreshes more than once while it loads: only the latest answer is drawn.
	const token = (frm.__crm_value_token = (frm.__crm_value_token || 0) + 1);
	const latest = () => token === frm.__crm_value_token;
	frappe.call({
		method: "crm_extension.api.customer_value.profile",
		args: { customer: frm.doc.name },
		callback: ({ message }) => {
			if (!message || !latest()) return;
			when_visible(wrapper[0], () => latest() && crm_extension.customer_value.draw(wrapper, message));
		},
	});
};

// A chart drawn inside a hidden tab has no width to lay its bars out in: wait until the tab is shown.
function when_visible(element, draw) {
	if (element.offsetWidth > 0) return draw();
	const observer = new ResizeObserver(() => {
		if (element.offsetWidth > 0) {
			observer.disconnect();
			draw();
		}
	});
	observer.observe(element);
}

crm_extension.customer_value.draw = function (wrapper, profile) {
	const months = profile.purchases_by_month || [];
	// The server sends only hex colours; checked again here because it lands in a style attribute.
	const colour = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(profile.tier_color || "")
		? profile.tier_color
		: "var(--gray-200)";
	const tier = profile.value_tier
		? `<span class="indicator-pill" style="background:${frappe.utils.escape_html(colour)};color:#fff">
			${frappe.utils.escape_html(__(profile.value_tier))}</span>`
		: `<span class="text-muted">${__("Not computed yet")}</span>`;
	const next_90 = format_number(profile.expected_purchases_90d || 0, null, 1);
	wrapper.html(`
		<div class="crm-customer-value"
			style="display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin-bottom:8px">
			<div>${__("Value Tier")}: ${tier}</div>
			<div class="text-muted">${__("Expected purchases in the next 90 days")}: ${next_90}</div>
		</div>
		<div class="crm-customer-value-chart"></div>`);
	if (!months.some((row) => row.revenue || row.margin)) {
		const empty = `<p class="text-muted">${__("No sales in the last 12 months")}</p>`;
		wrapper.find(".crm-customer-value-chart").html(empty);
		return;
	}
	new frappe.Chart(wrapper.find(".crm-customer-value-chart")[0], {
		type: "bar",
		height: 200,
		data: {
			labels: months.map((row) => row.month),
			datasets: [
				{ name: __("Net Sales"), values: months.map((row) => row.revenue) },
				{ name: __("Gross Margin"), values: months.map((row) => row.margin) },
			],
		},
		axisOptions: { xIsSeries: 1 },
	});
};

frappe.ui.form.on("Customer", {
	refresh(frm) {
		crm_extension.customer_value.render(frm);
	},
});
