from crm_extension.activity_log.engine.feed import add_row_target, clip_summary, email_engagement


def row(source_doctype, source_name="X-1", reference_doctype="Lead", reference_name="CRM-LEAD-1"):
	return {
		"source_doctype": source_doctype,
		"source_name": source_name,
		"reference_doctype": reference_doctype,
		"reference_name": reference_name,
	}


def test_a_comment_or_a_note_opens_the_document_it_is_about():
	for source in ("Comment", "CRM Note"):
		item = add_row_target(row(source))

		assert (item["open_doctype"], item["open_name"]) == ("Lead", "CRM-LEAD-1")


def test_an_activity_an_email_or_a_call_opens_itself():
	for source in ("CRM Activity", "Communication", "Call Log", "Event", "ToDo", "Quotation"):
		item = add_row_target(row(source, "DOC-7"))

		assert (item["open_doctype"], item["open_name"]) == (source, "DOC-7")


def test_a_comment_without_a_reference_opens_itself():
	item = add_row_target(row("Comment", "C-1", None, None))

	assert (item["open_doctype"], item["open_name"]) == ("Comment", "C-1")


def test_sales_documents_are_dated_and_activities_are_timed():
	assert add_row_target(row("Sales Invoice"))["date_only"]
	assert add_row_target(row("Quotation"))["date_only"]
	assert not add_row_target(row("CRM Activity"))["date_only"]


def test_long_details_are_clipped_with_an_ellipsis_and_short_ones_kept():
	assert clip_summary("  Called, no answer  ") == "Called, no answer"
	assert clip_summary("word " * 100) == ("word " * 56).strip() + "…"
	assert clip_summary("   ") is None


def test_a_sent_email_shows_opened_when_read_and_clicked_when_a_link_was_followed():
	assert email_engagement(0, "Sent", None) == []
	assert email_engagement(1, "Read", None) == ["Opened"]
	assert email_engagement(0, "Sent", "2026-12-04 10:00:00") == ["Clicked"]
	# the host's pixel overwrites delivery_status with "Read" after a click: the step run keeps the click
	assert email_engagement(1, "Read", "2026-12-04 10:00:00") == ["Opened", "Clicked"]
	assert email_engagement(0, "Clicked", None) == ["Clicked"]
