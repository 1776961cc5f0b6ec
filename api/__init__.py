"""HTTP and command line: the app factory, settings, JSON API, pages and CLI. The only layer that knows Flask."""
