"""The ``ilrs`` command."""
