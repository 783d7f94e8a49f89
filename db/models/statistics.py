"""The statistics cache: one computed snapshot per campaign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column


class CampaignStatisticsCache(Base):
    __tablename__ = "campaign_statistics_cache"

    campaign_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("campaign_flows.id"), primary_key=True
    )
    data: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime] = now_column()
