"""HTTP load against a running site (loopback only), for two claims of the activity log:

1. `log` throughput: crm_extension.api.activity.log against Frappe's own POST /api/resource/CRM Activity
   with the same fields, alternating rounds on the same server so drift hits both alike.
2. Inbound webhook: 2,000 signed deliveries, 20% of them redeliveries of an earlier message, from 8
   concurrent clients: every response must be 200 and exactly the distinct messages stored.

Usage: python http_load.py throughput|webhook <base-url> <credentials.json>
"""

import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from crm_extension.activity_log.engine.payload import sign

# Frappe picks the site from this header, so the load can go to 127.0.0.1 whatever the site is called.
SITE_HEADER = "X-Frappe-Site-Name"
ROUNDS = 3
REQUESTS_PER_ROUND = 300
THROUGHPUT_CLIENTS = 4
DELIVERIES = 2000
DUPLICATE_SHARE = 0.2
WEBHOOK_CLIENTS = 8
SENDERS = 100


def throughput(base: str, credentials: dict) -> dict:
	headers = {
		"Authorization": f"token {credentials['api_key']}:{credentials['api_secret']}",
		SITE_HEADER: credentials["site"],
	}
	body = {
		"reference_doctype": "Lead",
		"reference_name": credentials["lead"],
		"channel": "WhatsApp",
		"direction": "Outbound",
		"subject": "Benchmark message",
	}
	endpoints = {
		"api_activity_log": (f"{base}/api/method/crm_extension.api.activity.log", body),
		"api_resource_insert": (f"{base}/api/resource/CRM Activity", {**body, "source": "API"}),
	}
	rates = {name: [] for name in endpoints}
	for _ in range(ROUNDS):
		for name, (url, payload) in endpoints.items():
			rates[name].append(_requests_per_second(url, payload, headers))
	log_rate = statistics.median(rates["api_activity_log"])
	resource_rate = statistics.median(rates["api_resource_insert"])
	return {
		"clients": THROUGHPUT_CLIENTS,
		"requests_per_round": REQUESTS_PER_ROUND,
		"rounds": ROUNDS,
		"log_requests_per_second": round(log_rate, 1),
		"resource_requests_per_second": round(resource_rate, 1),
		"ratio": round(log_rate / resource_rate, 3),
		"target_ratio": 0.8,
		"all_rounds": {name: [round(rate, 1) for rate in values] for name, values in rates.items()},
	}


def _requests_per_second(url: str, payload: dict, headers: dict) -> float:
	def post(_):
		with requests.Session() as session:
			response = session.post(url, json=payload, headers=headers, timeout=60)
			response.raise_for_status()

	started = time.perf_counter()
	with ThreadPoolExecutor(THROUGHPUT_CLIENTS) as pool:
		list(pool.map(post, range(REQUESTS_PER_ROUND)))
	return REQUESTS_PER_ROUND / (time.perf_counter() - started)


def webhook(base: str, credentials: dict) -> dict:
	random.seed(11)
	senders = ["+98912" + "".join(random.choice("0123456789") for _ in range(7)) for _ in range(SENDERS)]
	distinct = int(DELIVERIES * (1 - DUPLICATE_SHARE))
	messages = [_message(f"bench-{i}", random.choice(senders)) for i in range(distinct)]
	deliveries = messages + [random.choice(messages) for _ in range(DELIVERIES - distinct)]
	random.shuffle(deliveries)
	url = f"{base}/api/method/crm_extension.api.inbound.receive"

	errors: list[str] = []

	def deliver(message: dict) -> int:
		body = json.dumps(message).encode()
		timestamp = str(int(time.time()))
		headers = {
			"Content-Type": "application/json",
			SITE_HEADER: credentials["site"],
			"X-CRM-Source": credentials["source"],
			"X-CRM-Timestamp": timestamp,
			"X-CRM-Signature": sign(credentials["secret"], timestamp, body),
		}
		response = requests.post(url, data=body, headers=headers, timeout=120)
		if response.status_code != 200 and len(errors) < 5:
			errors.append(f"{message['external_id']} {response.status_code} {response.text[:2000]}")
		return response.status_code

	started = time.perf_counter()
	with ThreadPoolExecutor(WEBHOOK_CLIENTS) as pool:
		statuses = list(pool.map(deliver, deliveries))
	elapsed = time.perf_counter() - started
	return {
		"deliveries": DELIVERIES,
		"distinct_messages": distinct,
		"clients": WEBHOOK_CLIENTS,
		"senders": SENDERS,
		"status_counts": {str(status): statuses.count(status) for status in sorted(set(statuses))},
		"first_errors": errors,
		"seconds": round(elapsed, 1),
		"deliveries_per_second": round(DELIVERIES / elapsed, 1),
	}


def _message(external_id: str, sender: str) -> dict:
	return {
		"external_id": external_id,
		"direction": "Inbound",
		"from": sender,
		"to": "+982100000000",
		"text": "سلام، لطفاً قیمت را بفرستید",
		"sent_at": "2024-05-01T10:00:00Z",
	}


if __name__ == "__main__":
	kind, base_url, credentials_path = sys.argv[1:4]
	credentials = json.loads(Path(credentials_path).read_text())
	result = throughput(base_url, credentials) if kind == "throughput" else webhook(base_url, credentials)
	print(json.dumps(result))
