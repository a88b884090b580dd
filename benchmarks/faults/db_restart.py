"""MariaDB restarted during a burst of signed webhook deliveries from retrying clients; prints one JSON
document. Run by ``benchmarks/faults/db_restart.sh`` (which owns the MariaDB, the site copy and the server):

    python db_restart.py <base-url> <credentials.json> <db_restart.sh> <mariadb socket> <database>

2,000 deliveries, 1,600 distinct messages (20 % are redeliveries of an earlier message, as gateways do) from
100 senders the site does not know (the source creates a Lead for each), posted by 8 client threads. A client
delivers a message again, with the same delivery id, freshly signed, when the connection fails, the request
times out, or the answer is 5xx or 429; it gives up on a message after ``GIVE_UP_SECONDS``. While the burst
runs, the MariaDB is killed (SIGKILL) and started again, then later shut down cleanly and started again.
Then, with the database up, what was stored is compared with what was sent and what the clients were told.
"""

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from crm_extension.activity_log.engine.payload import sign

SITE_HEADER = "X-Frappe-Site-Name"
DELIVERIES = 2000
DUPLICATE_SHARE = 0.2
CLIENTS = 8
SENDERS = 100
REQUEST_TIMEOUT = 30
GIVE_UP_SECONDS = 300
DOWN_SECONDS = 3  # how long the database stays down at each restart
# (deliveries answered before the restart, how it is stopped)
RESTARTS = ((500, "db-kill"), (1200, "db-stop"))
RETRIED = {429, 500, 502, 503, 504}


class Burst:
	def __init__(self, base: str, credentials: dict):
		self.url = f"{base}/api/method/crm_extension.api.inbound.receive"
		self.credentials = credentials
		self.lock = threading.Lock()
		self.answered = 0  # deliveries finished (acknowledged or given up)
		self.statuses = Counter()  # every response or failure, retries included
		self.attempts = Counter()  # attempts per delivery: {attempts: deliveries}
		self.acknowledged = defaultdict(set)  # external id -> activity names answered with 200
		self.given_up: list[str] = []
		self.samples: dict[str, str] = {}  # a response body per status other than 200
		self.errors = Counter()  # answers other than 200 by status and what the body says (Frappe's exc_type)

	def deliver(self, message: dict):
		started, attempt = time.monotonic(), 0
		body = json.dumps(message).encode()
		while True:
			attempt += 1
			outcome, activity = self._post(body)
			with self.lock:
				self.statuses[outcome] += 1
			if outcome == "200":
				with self.lock:
					self.acknowledged[message["external_id"]].add(activity)
					self.attempts[attempt] += 1
					self.answered += 1
				return
			retry = outcome in {str(code) for code in RETRIED} or not outcome.isdigit()
			if not retry or time.monotonic() - started > GIVE_UP_SECONDS:
				with self.lock:
					self.given_up.append(f"{message['external_id']}: {outcome}")
					self.attempts[attempt] += 1
					self.answered += 1
				return
			time.sleep(min(0.25 * attempt, 3))

	def _post(self, body: bytes) -> tuple[str, str | None]:
		timestamp = str(int(time.time()))
		headers = {
			"Content-Type": "application/json",
			SITE_HEADER: self.credentials["site"],
			"X-CRM-Source": self.credentials["source"],
			"X-CRM-Timestamp": timestamp,
			"X-CRM-Signature": sign(self.credentials["secret"], timestamp, body),
		}
		try:
			response = requests.post(self.url, data=body, headers=headers, timeout=REQUEST_TIMEOUT)
		except requests.Timeout:
			return "timeout", None
		except requests.ConnectionError:
			return "connection error", None
		status = str(response.status_code)
		if status != "200":
			with self.lock:
				self.samples.setdefault(status, response.text[:300])
				self.errors[f"{status} {_error_kind(response)}"] += 1
			return status, None
		return status, response.json()["message"]["activity"]


def _error_kind(response: requests.Response) -> str:
	try:
		return response.json().get("exc_type") or "JSON without exc_type"
	except ValueError:
		return "not JSON: " + " ".join(response.text.split())[:60]


def messages() -> tuple[list[dict], int]:
	random.seed(18)
	senders = ["+98912" + "".join(random.choice("0123456789") for _ in range(7)) for _ in range(SENDERS)]
	distinct = int(DELIVERIES * (1 - DUPLICATE_SHARE))
	unique = [_message(f"fault-{i}", random.choice(senders)) for i in range(distinct)]
	deliveries = unique + [random.choice(unique) for _ in range(DELIVERIES - distinct)]
	random.shuffle(deliveries)
	return deliveries, len({message["from"] for message in unique})


def _message(external_id: str, sender: str) -> dict:
	return {
		"external_id": external_id,
		"direction": "Inbound",
		"from": sender,
		"to": "+982100000000",
		"text": "سلام، لطفاً قیمت را بفرستید",
		"sent_at": "2024-05-01T10:00:00Z",
	}


def restarts(burst: Burst, control: str, started: float, done: threading.Event) -> list[dict]:
	"""Stops and starts the database once the burst has answered the given number of deliveries."""
	log = []
	for after, how in RESTARTS:
		while burst.answered < after and not done.is_set():
			time.sleep(0.05)
		if done.is_set():
			log.append({"after_deliveries": after, "how": how, "skipped": "the burst had ended"})
			continue
		at, answered = time.monotonic(), burst.answered
		subprocess.run(["bash", control, how], check=True)
		stopped = time.monotonic()
		time.sleep(DOWN_SECONDS)
		subprocess.run(["bash", control, "db-start"], check=True)
		log.append(
			{
				"how": "kill -9, then start" if how == "db-kill" else "clean shutdown, then start",
				"at_seconds_into_the_burst": round(at - started, 1),
				"deliveries_answered_before": answered,
				"seconds_to_stop": round(stopped - at, 1),
				"seconds_down_until_accepting_connections": round(time.monotonic() - stopped, 1),
			}
		)
	return log


def stored(socket: str, database: str, source: str, lead_source: str) -> dict:
	def query(sql: str) -> list[list[str]]:
		output = subprocess.run(
			["mariadb", "--no-defaults", "-S", socket, "-uroot", "-N", "-B", database, "-e", sql],
			check=True,
			capture_output=True,
			text=True,
		).stdout
		return [line.split("\t") for line in output.splitlines()]

	rows = query(f"select external_id, name from `tabCRM Activity` where inbound_source = '{source}'")
	leads = query(f"select lead_name, count(*) from `tabLead` where source = '{lead_source}' group by 1")
	return {"rows": rows, "leads_per_sender": {name: int(count) for name, count in leads}}


def check(burst: Burst, sent: list[dict], senders: int, database: dict, source: str) -> dict:
	distinct = {message["external_id"] for message in sent}
	by_id = defaultdict(list)
	for external_id, name in database["rows"]:
		by_id[external_id.removeprefix(f"{source}:")].append(name)
	stored_ids = set(by_id)
	acknowledged = set(burst.acknowledged)
	answers_disagree = [
		external_id
		for external_id, names in burst.acknowledged.items()
		if len(names) != 1 or names != set(by_id.get(external_id, ()))
	]
	result = {
		"distinct_messages_sent": len(distinct),
		"activities_stored": len(database["rows"]),
		"distinct_external_ids_stored": len(stored_ids),
		"duplicates_stored": len(database["rows"]) - len(stored_ids),
		"messages_acknowledged_200": len(acknowledged),
		"acknowledged_but_not_stored_silently_lost": len(acknowledged - stored_ids),
		"not_acknowledged_and_not_stored_client_knows": len(distinct - acknowledged - stored_ids),
		"stored_but_never_acknowledged": len(stored_ids - acknowledged),
		"stored_ids_that_were_never_sent": len(stored_ids - distinct),
		"acknowledged_with_another_activity_than_stored": len(answers_disagree),
		"senders": senders,
		"leads_created_for_senders": sum(database["leads_per_sender"].values()),
		"senders_with_more_than_one_lead": sum(count > 1 for count in database["leads_per_sender"].values()),
	}
	result["passed"] = (
		result["activities_stored"] == result["distinct_messages_sent"] == len(stored_ids & distinct)
		and result["duplicates_stored"] == 0
		and result["acknowledged_but_not_stored_silently_lost"] == 0
		and result["acknowledged_with_another_activity_than_stored"] == 0
		and result["senders_with_more_than_one_lead"] == 0
	)
	return result


def main(base: str, credentials_path: str, control: str, socket: str, database: str) -> dict:
	credentials = json.loads(Path(credentials_path).read_text())
	sent, senders = messages()
	burst = Burst(base, credentials)
	done = threading.Event()
	started = time.monotonic()
	with ThreadPoolExecutor(1) as restarter:
		restart_log = restarter.submit(restarts, burst, control, started, done)
		with ThreadPoolExecutor(CLIENTS) as clients:
			list(clients.map(burst.deliver, sent))
		done.set()
		restart_log = restart_log.result()
	seconds = time.monotonic() - started
	database = stored(socket, database, credentials["source"], credentials["lead_source"])
	return {
		"deliveries": len(sent),
		"clients": CLIENTS,
		"seconds": round(seconds, 1),
		"restarts": restart_log,
		"responses_and_failures_by_kind": dict(burst.statuses),
		"requests_sent": sum(burst.statuses.values()),
		"retries": sum(burst.statuses.values()) - len(sent),
		"deliveries_by_attempts_needed": {str(k): v for k, v in sorted(burst.attempts.items())},
		"given_up": burst.given_up[:20],
		"given_up_count": len(burst.given_up),
		"answers_other_than_200": dict(burst.errors),
		"sample_bodies": burst.samples,
		"check": check(burst, sent, senders, database, credentials["source"]),
	}


if __name__ == "__main__":
	print(json.dumps(main(*sys.argv[1:6])))
