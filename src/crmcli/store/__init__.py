"""The library under the CLI: `verb_noun(conn, ...)` functions over one connection.

Each function works inside whatever transaction the caller holds (the CLI's
`db.session`), validates its input through `crmcli.models` before writing, and
returns records as dicts keyed by SPEC's JSON field names.
"""
