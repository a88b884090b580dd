// What a person sees on the current desk screen, measured in the page (Playwright's page.evaluate).
// Returns plain data; tests/browser/visible.py decides what is a problem, so the rules are unit tested.
// Argument: {root: optional CSS selector of the content to read (default: the visible desk page and any
// open dialog)}.
(options) => {
	// Rendered, not hidden, and neither it nor an ancestor fully transparent (a tooltip waiting for hover).
	const shownCache = new Map();
	const isShown = (el) => {
		if (!el || el.nodeType !== Node.ELEMENT_NODE) return true;
		if (shownCache.has(el)) return shownCache.get(el);
		const style = getComputedStyle(el);
		const shown =
			el.getClientRects().length > 0 &&
			style.visibility !== "hidden" &&
			style.display !== "none" &&
			Number(style.opacity) !== 0 &&
			(el.parentElement ? isShown(el.parentElement) : true);
		shownCache.set(el, shown);
		return shown;
	};
	const skipped = (el) => el.closest("script, style, noscript, template");
	// The text a person can see: every shown text node, one per line.
	const visibleText = (root) => {
		const parts = [];
		const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
		for (let node = walker.nextNode(); node; node = walker.nextNode()) {
			const text = node.textContent.trim();
			if (text && !skipped(node.parentElement) && isShown(node.parentElement)) parts.push(text);
		}
		return parts.join("\n");
	};
	const describe = (el) => {
		const classes = Array.from(el.classList || []).slice(0, 3).join(".");
		const field = el.closest && el.closest("[data-fieldname]");
		const where = field ? `[data-fieldname=${field.dataset.fieldname}] ` : "";
		return `${where}${el.tagName.toLowerCase()}${classes ? "." + classes : ""}`;
	};
	const roots = () => {
		if (options && options.root) return Array.from(document.querySelectorAll(options.root)).filter(isShown);
		const pages = Array.from(document.querySelectorAll("#body .page-container")).filter(isShown);
		const dialogs = Array.from(document.querySelectorAll(".modal.show .modal-dialog")).filter(isShown);
		const found = pages.length ? pages : [document.querySelector("#body") || document.body];
		return found.concat(dialogs);
	};

	// Each visible text node's rendered lines and width: many lines in a narrow box is a one-word column.
	const textBoxes = (root) => {
		const boxes = [];
		const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
		const range = document.createRange();
		for (let node = walker.nextNode(); node; node = walker.nextNode()) {
			const text = node.textContent.replace(/\s+/g, " ").trim();
			const parent = node.parentElement;
			if (text.length < 4 || parent.closest("svg, textarea") || skipped(parent) || !isShown(parent)) continue;
			range.selectNodeContents(node);
			const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0);
			if (!rects.length) continue;
			const tops = new Set(rects.map((r) => Math.round(r.top)));
			const left = Math.min(...rects.map((r) => r.left));
			const right = Math.max(...rects.map((r) => r.right));
			boxes.push({ text: text.slice(0, 80), width: Math.round(right - left), lines: tops.size, where: describe(parent) });
		}
		return boxes;
	};

	// Text an element shows itself (its own text nodes), for the untranslated-string check.
	const ownTexts = (root) => {
		const texts = [];
		for (const el of root.querySelectorAll("*")) {
			// Frappe's datatable labels its total row "Total" without translating it: Frappe's string, not the app's.
			if (el.closest("svg, .dt-row-totalRow") || skipped(el) || !isShown(el)) continue;
			const own = Array.from(el.childNodes)
				.filter((n) => n.nodeType === Node.TEXT_NODE)
				.map((n) => n.textContent)
				.join(" ")
				.replace(/\s+/g, " ")
				.trim();
			if (own) texts.push({ text: own, where: describe(el) });
			const placeholder = el.getAttribute && el.getAttribute("placeholder");
			if (placeholder && el.matches("input, textarea")) texts.push({ text: placeholder.trim(), where: describe(el) });
		}
		return texts;
	};

	// Boxes wider than they are shown: the page itself and each form section / card.
	const overflows = () => {
		const found = [];
		const page = document.scrollingElement || document.documentElement;
		found.push({ where: "page", scrollWidth: page.scrollWidth, clientWidth: page.clientWidth });
		const boxes = document.querySelectorAll(
			"#body .page-container .form-section, #body .page-container .frappe-card, .modal.show .modal-body"
		);
		for (const el of boxes) {
			if (!isShown(el)) continue;
			found.push({ where: describe(el), scrollWidth: el.scrollWidth, clientWidth: el.clientWidth });
		}
		return found;
	};

	const shown = roots();
	return {
		text: shown.map(visibleText).join("\n"),
		boxes: shown.flatMap(textBoxes),
		own_texts: shown.flatMap(ownTexts),
		overflows: overflows(),
		viewport_width: window.innerWidth,
		dir: document.documentElement.getAttribute("dir") || getComputedStyle(document.body).direction,
	};
};
