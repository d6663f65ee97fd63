"""HTML reports and figures from result objects."""
