"""Reading customer data files: readers, header mapping, value parsing, row validation."""
