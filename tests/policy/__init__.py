"""terraform-compliance features (features/), their fixtures (fixtures/) and the planner."""
