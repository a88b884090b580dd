"""Who the demo company is (per language) and how much history it gets."""

from dataclasses import dataclass

SEED = 20240601
EMAIL_DOMAIN = "demo.localhost"
PASSWORD = "demo"


@dataclass(frozen=True)
class Profile:
	lang: str
	company: str
	abbr: str
	currency: str
	country: str
	timezone: str
	fiscal_year_start: tuple[int, int]  # (month, day)
	weekly_off: tuple[str, ...]
	holidays: tuple[tuple[int, int, str], ...]  # (month, day, description), every year
	price_factor: float  # the catalogue's dollar prices times this, in the company's currency
	territory: str


PROFILES = {
	"en": Profile(
		lang="en",
		company="Brightline Office Supply",
		abbr="BOS",
		currency="USD",
		country="United States",
		timezone="America/New_York",
		fiscal_year_start=(1, 1),
		weekly_off=("Saturday", "Sunday"),
		holidays=((1, 1, "New Year's Day"), (7, 4, "Independence Day"), (12, 25, "Christmas Day")),
		price_factor=1.0,
		territory="United States",
	),
	"fa": Profile(
		lang="fa",
		company="شرکت تجهیزات اداری روشن",
		abbr="RSN",
		currency="IRR",
		country="Iran",
		timezone="Asia/Tehran",
		fiscal_year_start=(3, 21),
		weekly_off=("Friday",),
		holidays=(
			(3, 21, "نوروز"),
			(3, 22, "نوروز"),
			(3, 23, "نوروز"),
			(3, 24, "نوروز"),
			(4, 1, "روز جمهوری اسلامی"),
			(4, 2, "سیزده به در"),
		),
		price_factor=600_000.0,
		territory="Iran",
	),
}


@dataclass(frozen=True)
class Sizes:
	leads: int
	history_days: int
	open_days: int  # Leads created this recently are still being worked
	seed: int = SEED


FULL = Sizes(leads=320, history_days=730, open_days=75)
SMALL = Sizes(leads=36, history_days=150, open_days=40)
SCALES = {"full": FULL, "small": SMALL}


def profile_for(lang: str) -> Profile:
	if lang not in PROFILES:
		raise ValueError(f"No demo profile for language {lang!r}: use one of {', '.join(PROFILES)}")
	return PROFILES[lang]
