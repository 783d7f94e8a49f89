"""SQLAlchemy models, one module per aggregate."""

from db.models.abtest import AbDecision
from db.models.accounts import AccountConversation, TelegramAccount, TelegramPeer
from db.models.base import Base
from db.models.campaigns import CampaignFlow, CampaignFlowVersion
from db.models.contacts import Contact
from db.models.do_not_contact import DoNotContact, ReplyRules
from db.models.executions import FlowExecution, FlowExecutionLog
from db.models.messages import Message
from db.models.organizations import Organization, OrganizationMember
from db.models.statistics import CampaignStatisticsCache
from db.models.users import ApiToken, ConsoleSession, User
from db.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "AbDecision",
    "AccountConversation",
    "ApiToken",
    "Base",
    "CampaignFlow",
    "CampaignFlowVersion",
    "CampaignStatisticsCache",
    "ConsoleSession",
    "Contact",
    "DoNotContact",
    "FlowExecution",
    "FlowExecutionLog",
    "Message",
    "Organization",
    "OrganizationMember",
    "ReplyRules",
    "TelegramAccount",
    "TelegramPeer",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
