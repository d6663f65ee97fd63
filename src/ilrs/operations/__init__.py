"""Operations: partner activity requests, the CP-SAT planner, the greedy baseline and the plan validator."""
