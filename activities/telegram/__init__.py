"""One provider interface for Telegram, with Telethon and simulator implementations."""
