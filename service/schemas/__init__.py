"""Wire schemas: the one place where JSON becomes arrays and arrays become JSON."""
