"""Demo data for a site a person can look at: ``scripts/demo.sh`` runs ``demo.run.generate`` in the site.

Everything is made through the host's own documents (Leads, Communications, Call Logs, Events,
Opportunities, Quotations, Sales Orders, Delivery Notes, Sales Invoices, Payment Entries, Stock Entries)
and the app's own doctypes and functions, from a fixed random seed, so two runs make the same data.
"""
