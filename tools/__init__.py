"""Developer tooling for fleetpatch: Terraform helpers, docs, benchmarks, reports."""
