"""Contacts, Telegram accounts, the do-not-contact list and reply rules."""
