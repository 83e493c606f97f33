"""PDF rendering: HTML to PDF with WeasyPrint behind a locked-down fetcher, and pikepdf."""
