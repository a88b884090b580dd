"""Jobs whose worker died.

A job whose worker was killed (``kill -9``, out of memory, a host gone) stays "started" in RQ until some
worker's registry maintenance, every 10 minutes, sees that its heartbeat stopped. Meanwhile a deduplicated
``frappe.enqueue`` on the same job id refuses a new job, because the dead one still looks started. RQ's own
started-registry cleanup marks such a job failed as soon as its heartbeat has expired (a live worker pushes it
forward every 30 s; at most 90 s after the kill), which frees its job id. A job on a live worker is left alone.
"""

from frappe.utils import background_jobs


def fail_jobs_of_dead_workers(queue: str = "long"):
	"""Mark failed the jobs of ``queue`` that a worker started and whose heartbeat has expired."""
	# looked up on the module when called, so a caller that points get_queue elsewhere is followed
	background_jobs.get_queue(queue).started_job_registry.cleanup()
