"""Reading a school's roster file (CSV/XLSX) into a frame, within bounds."""
