"""The approval trigger Lambda function: SageMaker approval events to pipeline executions."""
