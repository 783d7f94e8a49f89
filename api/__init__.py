"""The REST API, its services and policies, and the `tgflows` command line."""
