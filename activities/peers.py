"""Resolves a lead to something Telegram can address, once per (account, contact)."""

from __future__ import annotations

import logging

from activities.telegram.base import PEER_ERRORS, Peer, PeerUnusable, TelegramProvider
from db.repositories import peers as peer_repo
from db.session import SessionFactory
from db.vocabulary import LogEvent, LogStatus, NodeType
from workflows.types import LogEntry

log = logging.getLogger(__name__)


class PeerResolver:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def target(
        self,
        provider: TelegramProvider,
        account_id: int,
        contact_id: int,
        peer: Peer,
        logs: list[LogEntry],
        node_id: str,
    ) -> Peer:
        """The peer to send to; a lead known only by phone is imported the first time.

        Called inside the send's claimed slot, so imports are paced by the account's
        limits like sends; a FloodWait from the import defers the send like its own.
        """
        if peer.username:
            return peer
        async with self._sessions() as session:
            known = await peer_repo.known_peer(session, account_id, contact_id)
        if known is not None:
            return Peer(peer.username, peer.phone, known[0], known[1])
        if peer.phone is None:
            if provider.needs_access_hash:
                raise PeerUnusable("ACCESS_HASH_MISSING", PEER_ERRORS["ACCESS_HASH_MISSING"])
            return peer
        try:
            user = await provider.resolve_phone(peer.phone)
        except PeerUnusable as err:
            log.info("account %s: contact %s not resolved: %s", account_id, contact_id, err.code)
            raise
        async with self._sessions.begin() as session:
            await peer_repo.record_peer(
                session, account_id, contact_id, user.user_id, user.access_hash
            )
        log.info("account %s: contact %s resolved by phone", account_id, contact_id)
        logs.append(
            LogEntry(
                node_id=node_id,
                node_type=NodeType.SEND_MESSAGE,
                event_type=LogEvent.CONTACT_RESOLVED,
                status=LogStatus.RESOLVED,
                details={"via": "contacts.importContacts", "telegram_user_id": user.user_id},
            )
        )
        return Peer(peer.username, peer.phone, user.user_id, user.access_hash)
