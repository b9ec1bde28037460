"""The real Temporal servers start from the installed packages."""

import datetime as dt

from temporalio import workflow
from temporalio.worker import Worker


@workflow.defn
class SleepTenDays:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(dt.timedelta(days=10))
        return "woke"


async def test_time_skipping_server_skips_ten_days(time_env, task_queue):
    async with Worker(time_env.client, task_queue=task_queue, workflows=[SleepTenDays]):
        result = await time_env.client.execute_workflow(SleepTenDays.run, id="sleep", task_queue=task_queue)
    assert result == "woke"


async def test_dev_server_has_search_attributes(dev_client):
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

    resp = await dev_client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=dev_client.namespace)
    )
    assert "ApplicationStatus" in resp.custom_attributes
    assert "NextDeadline" in resp.custom_attributes
