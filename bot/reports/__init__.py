"""Progress reports for a school or the department: XLSX, chart, shared CCCDs."""
