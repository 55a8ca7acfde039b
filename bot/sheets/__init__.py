"""Writing the CSV and XLSX files the project hands to people: no cell is a live formula."""
