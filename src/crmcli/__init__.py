"""crm: a contact manager and small CRM for the terminal and for scripts."""

__version__ = "0.1.0"
