"""crm: a contact manager and small CRM for the terminal and for scripts."""

__version__ = "0.1.0"

from contextvars import ContextVar

# The command line being run (`contact add 'Jane Doe'`), set by the CLI: every write
# session records its changes as one operation under this summary (crm history).
COMMAND: ContextVar[str | None] = ContextVar("crmcli_command", default=None)
