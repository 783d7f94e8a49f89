"""The contact workflow's send call, and what it does when no worker takes the send.

Workflow code only: deterministic, no I/O.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType

with workflow.unsafe.imports_passed_through():
    from activities.sending import SendActivities
    from activities.unserved import UnservedActivities
    from workflows.contact_runtime import (
        DB_RETRY,
        DB_TIMEOUT,
        SEND_HEARTBEAT,
        SEND_RETRY,
        SEND_TIMEOUT,
    )
    from workflows.types import SendRequest, SendResult


async def send_on_queue(
    req: SendRequest, queue: str | None, queue_wait: int | None
) -> SendResult | None:
    """The send activity's result; None when no worker took it from the account's own
    queue within `queue_wait` seconds (the shared queue has no such limit)."""
    try:
        return await workflow.execute_activity_method(
            SendActivities.send_message,
            req,
            task_queue=queue,
            schedule_to_start_timeout=(
                timedelta(seconds=queue_wait) if queue is not None and queue_wait else None
            ),
            start_to_close_timeout=SEND_TIMEOUT,
            heartbeat_timeout=SEND_HEARTBEAT,
            retry_policy=SEND_RETRY,
        )
    except ActivityError as err:
        cause = err.cause
        if isinstance(cause, TimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_START:
            return None
        raise


async def record_unserved(req: SendRequest) -> SendResult | None:
    """The send's outcome if already known (sent by an earlier attempt, or the lead
    halted or replaced), else None once the lead's wait and reason are recorded."""
    return await workflow.execute_local_activity_method(
        UnservedActivities.record_unserved,
        req,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
