"""Client-side questions to Temporal for diagnosis: who polls a queue, where a lead is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from workflows.types import STATE_QUERY, ContactState, contact_workflow_id

RPC_TIMEOUT = timedelta(seconds=5)
# Temporal lists a poller for minutes after its last poll; a worker long-polls about
# once a minute, so one not seen for longer than this has stopped.
POLLER_FRESH = timedelta(minutes=2)


async def live_pollers(client: Client, task_queue: str, *, activities: bool = False) -> int:
    """How many workers polled this queue (workflow tasks, or activity tasks) lately."""
    kind = (
        TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        if activities
        else TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    )
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=kind,
        ),
        timeout=RPC_TIMEOUT,
    )
    since = datetime.now(UTC) - POLLER_FRESH
    return sum(
        1 for poller in response.pollers if poller.last_access_time.ToDatetime(tzinfo=UTC) > since
    )


async def contact_state(client: Client, execution_id: int, generation: int) -> ContactState:
    """The lead's workflow answers its `state` query (a worker must be running).

    By name: importing the workflow definition would load the activities it calls into
    the api."""
    handle = client.get_workflow_handle(contact_workflow_id(execution_id, generation))
    state: ContactState = await handle.query(
        STATE_QUERY, result_type=ContactState, rpc_timeout=RPC_TIMEOUT
    )
    return state
