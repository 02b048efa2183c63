"""The SageMaker model package group: the registry every version is approved in."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from shared.config import ModelGroupConfig
from stacks import arns

#: What another account needs to see the group's versions and build a Model from one.
SHARED_ACTIONS = (
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModel",
)


class ModelRegistryGroup(Construct):
    """Exposes ``group`` (the CfnModelPackageGroup, or None for an adopted group) and
    ``group_name``.

    With ``adoptExistingGroup`` the group already exists in the account (created by data
    scientists first, or retained by an earlier stack): CloudFormation would fail to
    create a second resource of that name, so the stack refers to it by name only."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ModelGroupConfig) -> None:
        super().__init__(scope, construct_id)
        self.group_name = config.name
        self.group: sagemaker.CfnModelPackageGroup | None = None
        if config.adopt_existing_group:
            return
        policy = None
        if config.reader_accounts:
            policy = iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="ShareModelPackageGroup",
                        principals=[
                            iam.AccountPrincipal(account) for account in config.reader_accounts
                        ],
                        actions=list(SHARED_ACTIONS),
                        resources=[
                            arns.model_package_group_arn(self, config.name),
                            arns.model_packages_arn(self, config.name),
                        ],
                    )
                ]
            ).to_json()
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=config.name,
            model_package_group_description=config.description,
            model_package_group_policy=policy,
        )
        # Versions, approvals and their history outlive the stack.
        self.group.apply_removal_policy(RemovalPolicy.RETAIN)
