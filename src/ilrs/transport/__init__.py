"""Transport: lunar orbits (the relay's frozen orbit first), later launchers, transfers and budgets."""
