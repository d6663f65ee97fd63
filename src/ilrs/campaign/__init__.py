"""Campaign: the ILRS roadmap as missions, feasibility, build-up, Monte Carlo risk on Dask."""
