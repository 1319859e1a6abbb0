"""Pull-request plan review: render a Terraform plan for a reviewer, with its policy results.

``python -m tools.plan_review render`` writes the Markdown summary (:mod:`.render`);
``python -m tools.plan_review compliance`` runs terraform-compliance and saves its results
(:mod:`.policy`). See :mod:`tools.plan_review.__main__` for the command line.
"""

from tools.plan_review.policy import PolicyError, PolicyResult
from tools.plan_review.render import PlanError, load_plan, render_markdown

__all__ = ["PlanError", "PolicyError", "PolicyResult", "load_plan", "render_markdown"]
