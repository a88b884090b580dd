"""The demo's texts in English and Persian: what the emails, calls, meetings and messages say, the
catalogue, and the reasons deals are lost."""

EMAIL_SUBJECTS = {
	"en": {
		"Sent": (
			"Introduction and our catalogue",
			"Following up on our call",
			"Price list you asked for",
			"Case study: a customer like you",
			"Quotation and delivery times",
			"Checking in",
		),
		"Received": (
			"Re: Introduction and our catalogue",
			"Question about delivery",
			"Can you send a price list?",
			"Re: Quotation and delivery times",
			"Meeting next week?",
		),
	},
	"fa": {
		"Sent": (
			"معرفی شرکت و کاتالوگ محصولات",
			"پیگیری تماس تلفنی",
			"لیست قیمت درخواستی شما",
			"نمونه موفق یکی از مشتریان",
			"پیش‌فاکتور و زمان تحویل",
			"احوالپرسی و پیگیری",
		),
		"Received": (
			"پاسخ: معرفی شرکت و کاتالوگ محصولات",
			"سؤال درباره زمان تحویل",
			"لطفاً لیست قیمت را بفرستید",
			"پاسخ: پیش‌فاکتور و زمان تحویل",
			"جلسه هفته آینده؟",
		),
	},
}

EMAIL_BODY = {
	"en": "<p>Hello {name},</p><p>{subject}.</p><p>Best regards,<br>{sender}</p>",
	"fa": "<p>{name} عزیز، سلام</p><p>{subject}.</p><p>با احترام،<br>{sender}</p>",
}

CALL_SUMMARIES = {
	"en": (
		"Discussed their needs and budget",
		"Left a voicemail",
		"Asked about delivery and warranty",
		"Agreed to a meeting",
		"Talked through the quotation",
	),
	"fa": (
		"درباره نیازها و بودجه صحبت شد",
		"پیغام صوتی گذاشته شد",
		"درباره تحویل و گارانتی پرسیدند",
		"برای جلسه توافق شد",
		"پیش‌فاکتور مرور شد",
	),
}

MEETING_SUBJECTS = {
	"en": ("Needs analysis meeting", "Product demo", "Review of the proposal", "Introductory meeting"),
	"fa": ("جلسه نیازسنجی", "نمایش محصول", "بررسی پیشنهاد", "جلسه آشنایی"),
}

# CRM Activity subjects per channel (messages and visits).
MESSAGE_SUBJECTS = {
	"en": {
		"WhatsApp": (
			"Sent the catalogue",
			"Asked for a price",
			"Shared photos of the product",
			"Confirmed the meeting",
		),
		"Telegram": ("Sent the brochure", "Asked about stock", "Replied with questions"),
		"SMS": ("Reminder of the meeting", "Thanked for the visit", "Sent the tracking number"),
		"Site Visit": ("Visited their office", "Site survey for installation", "Delivered samples"),
	},
	"fa": {
		"WhatsApp": ("کاتالوگ ارسال شد", "قیمت را پرسیدند", "عکس محصول فرستاده شد", "جلسه تأیید شد"),
		"Telegram": ("بروشور ارسال شد", "موجودی را پرسیدند", "با چند سؤال پاسخ دادند"),
		"SMS": ("یادآوری جلسه", "تشکر بابت بازدید", "کد رهگیری ارسال شد"),
		"Site Visit": ("بازدید از دفتر مشتری", "بازدید فنی برای نصب", "تحویل نمونه"),
	},
}

LOST_REASONS = {
	"en": ("Price too high", "Chose a competitor", "No budget this year", "Project postponed"),
	"fa": ("قیمت بالا", "انتخاب رقیب", "نبود بودجه امسال", "تعویق پروژه"),
}

NOT_INTERESTED = {
	"en": "Not interested for now",
	"fa": "فعلاً علاقه‌ای ندارند",
}

# The catalogue: code, English name, Persian name, valuation rate and selling price in US dollars.
ITEMS = (
	("DEMO-LAPTOP-14", 'Business Laptop 14"', "لپ‌تاپ اداری ۱۴ اینچ", 610.0, 899.0),
	("DEMO-LAPTOP-16", 'Workstation Laptop 16"', "لپ‌تاپ مهندسی ۱۶ اینچ", 1180.0, 1690.0),
	("DEMO-DESKTOP", "Office Desktop PC", "رایانه رومیزی اداری", 420.0, 640.0),
	("DEMO-MONITOR-27", '27" Monitor', "مانیتور ۲۷ اینچ", 180.0, 279.0),
	("DEMO-PRINTER", "Laser Printer", "چاپگر لیزری", 210.0, 329.0),
	("DEMO-SWITCH-24", "24-port Network Switch", "سوئیچ شبکه ۲۴ پورت", 260.0, 415.0),
	("DEMO-ROUTER", "Business Router", "روتر سازمانی", 140.0, 229.0),
	("DEMO-UPS", "UPS 1500VA", "یو‌پی‌اس ۱۵۰۰ ولت‌آمپر", 150.0, 239.0),
	("DEMO-HEADSET", "Headset", "هدست", 28.0, 59.0),
	("DEMO-DOCK", "Docking Station", "داک‌استیشن", 95.0, 169.0),
)

ITEM_GROUP = {"en": "Demo Office Equipment", "fa": "تجهیزات اداری (نمایشی)"}
