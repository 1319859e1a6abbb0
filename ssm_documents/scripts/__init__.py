"""Python of the aws:executeScript steps, tested as plain Python and embedded by the build."""
