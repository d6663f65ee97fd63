"""Trade studies: a design space over a scenario, its designs, their objectives, the Pareto front."""
