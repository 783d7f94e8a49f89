"""HTTP routers, thin: parse, call a service, shape the answer."""
