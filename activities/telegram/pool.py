"""Holds at most one connected provider per account in this worker process."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from activities.telegram.base import TelegramProvider, Unauthorized
from activities.telegram.simulator_client import SimulatorProvider
from db.models import TelegramAccount
from db.secrets import decrypt


class ProviderPool:
    def __init__(self, simulator_url: str, telethon_client: Any = None) -> None:
        self._simulator_url = simulator_url
        # Tests put a fake TelegramClient here, at the boundary.
        self._telethon_client = telethon_client
        self._http: aiohttp.ClientSession | None = None
        self._polls: aiohttp.ClientSession | None = None
        self._providers: dict[int, TelegramProvider] = {}
        self._lock = asyncio.Lock()

    async def get(self, account: TelegramAccount) -> TelegramProvider:
        provider = self._providers.get(account.id)
        if provider is not None:
            return provider
        async with self._lock:
            provider = self._providers.get(account.id)
            if provider is None:
                provider = await self._connect(account)
                self._providers[account.id] = provider
            return provider

    async def _connect(self, account: TelegramAccount) -> TelegramProvider:
        if account.provider == "simulator":
            if self._http is None or self._polls is None:  # on the running loop, as aiohttp wants
                self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
                # Each held account keeps one long poll open, as it keeps one connection to
                # Telegram: polls share no cap, so a worker holding more accounts than the
                # requests' cap still sends and checks health at once.
                self._polls = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            return SimulatorProvider(self._simulator_url, account.phone, self._http, self._polls)
        if account.session_encrypted is None or account.api_id is None:
            raise Unauthorized("SESSION_MISSING")
        from activities.telegram.telethon_provider import TelethonProvider, telethon_client

        assert account.api_hash_encrypted is not None
        try:
            provider = TelethonProvider(
                session=decrypt(account.session_encrypted),
                api_id=account.api_id,
                api_hash=decrypt(account.api_hash_encrypted),
                factory=self._telethon_client or telethon_client,
            )
        except ValueError as err:  # Telethon rejects a malformed session string
            raise Unauthorized("SESSION_INVALID") from err
        await provider.connect()  # disconnects again when it fails: nothing is held
        return provider

    def held(self) -> int:
        """How many connected providers this process holds."""
        return len(self._providers)

    async def drop(self, account_id: int) -> None:
        provider = self._providers.pop(account_id, None)
        if provider is not None:
            await provider.close()

    async def close(self) -> None:
        for account_id in list(self._providers):
            await self.drop(account_id)
        for http in (self._http, self._polls):
            if http is not None:
                await http.close()
