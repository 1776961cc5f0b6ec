"""Browser tests of the web pages."""
