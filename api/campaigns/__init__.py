"""Campaigns: their routes, lifecycle service, schemas and flow documents."""
