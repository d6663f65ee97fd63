"""The open-access partner portal (FastAPI): calls, proposals, review, allocation, schedules and data."""
