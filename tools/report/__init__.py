"""Compliance and inventory reporting over Resource Data Sync data.

- :mod:`tools.report.generate` writes a sample fleet in the exact Resource Data Sync layout;
- :mod:`tools.report.source` fetches a dataset from a folder or from S3 (real or emulated);
- :mod:`tools.report.queries` loads the SQL shared with the Athena named queries of
  ``modules/central_reporting`` and runs it with DuckDB;
- :mod:`tools.report.html` renders ``index.html`` (inline SVG charts, sortable tables);
- ``python -m tools.report`` (``make report``) ties them together.
"""
