"""The station's digital twin: element models (communications first) and, later, the time-step engine."""
