"""Use cases shared by the CLI, the portal and the reports."""
