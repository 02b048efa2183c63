"""Who approved a version that was approved, rejected and approved again by someone else:
the scenarios ``greenlight status`` and ``greenlight history`` must answer alike
(shared.pipeline_history.deployment_approval: the approval in force when it went out)."""

from __future__ import annotations

import boto3
from pipeline_world import APPROVER_KEY, GROUP, PipelineWorld, topic_flags

from pipeline_scripts import cli

SECOND_APPROVER_KEY = "AKIAAPPROVER00000002"
FIRST_APPROVER = f"arn:aws:iam::123456789012:user/{APPROVER_KEY}"
SECOND_APPROVER = f"arn:aws:iam::123456789012:user/{SECOND_APPROVER_KEY}"


def approved_rejected_and_approved_again(world: PipelineWorld) -> str:
    """v1 approved by the approver and deployed everywhere, rejected (nothing earlier to
    roll back to), then approved again by the second approver; returns the execution that
    second approval starts."""
    v1 = world.register()
    world.deploy(v1)
    world.clock.advance(30)
    world.approver.update_model_package(
        ModelPackageArn=v1, ModelApprovalStatus="Rejected", ApprovalDescription="drifted"
    )
    world.trigger.handle(world.approved_event(v1))
    world.clock.advance(30)
    second_approver = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id=SECOND_APPROVER_KEY,
        aws_secret_access_key="testing",
    )
    second_approver.update_model_package(
        ModelPackageArn=v1, ModelApprovalStatus="Approved", ApprovalDescription="re-reviewed"
    )
    outcome = world.trigger.handle(world.approved_event(v1))
    assert outcome.pipeline_execution_id is not None, outcome
    return outcome.pipeline_execution_id


def redeployed_after_re_approval(world: PipelineWorld) -> str:
    """v1 approved, rejected, approved again by the second approver and deployed, then
    redeployed by an operator (``greenlight redeploy``, which prints what it started);
    returns the redeploy's execution."""
    world.run_everywhere(approved_rejected_and_approved_again(world))
    world.clock.advance(60)
    code = cli.main(["redeploy", GROUP, "1", *topic_flags(world), "--reason", "endpoint recycled"])
    assert code == 0
    redeploy = newest_execution(world)
    world.run_everywhere(redeploy)
    return redeploy


def rolled_back_to_a_revoked_approvals_execution(world: PipelineWorld) -> str:
    """v1 approved, rejected and approved again by the second approver (that execution
    is stopped before it deploys anything); then v2 fails its production bake and
    production rolls back to v1's first execution, whose variables name the first
    approval. Returns v2's execution."""
    again = approved_rejected_and_approved_again(world)
    world.codepipeline.stop_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=again, abandon=True, reason="held"
    )
    bad, _ = world.fail_in_production(world.register())
    return bad


def newest_execution(world: PipelineWorld) -> str:
    summaries = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)
    return str(summaries["pipelineExecutionSummaries"][0]["pipelineExecutionId"])
