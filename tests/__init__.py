"""matgrad test suite."""
