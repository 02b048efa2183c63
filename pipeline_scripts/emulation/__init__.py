"""What the local emulator adds where moto stops.

moto (in-process, or as a server) provides most of the AWS APIs Greenlight calls. A few
behaviours the design depends on are missing from it; this package emulates them, each
module documenting what real AWS does and how closely the emulation follows it:

- ``clock``: virtual time, so canary waits and bake minutes pass without sleeping.
- ``codepipeline``: execution history, StopPipelineExecution, RollbackStage,
  ListActionExecutions and the other CodePipeline calls moto lacks;
  ``codepipeline_control`` adds CreatePipeline / UpdatePipeline (structure versions),
  the rollback-target rules, stage transitions and RetryStageExecution, and
  ``codepipeline_model`` holds the records and response shapes.
- ``jobs``: the CodePipeline job API for Lambda invoke actions (PutJobSuccessResult,
  PutJobFailureResult, continuation tokens) and CodePipeline-shaped job events.
- ``sagemaker``: UpdateEndpoint with deployment guardrails (blue/green traffic shifting
  and auto-rollback on alarms), and endpoint metrics driven by the scenario.

The integration tests and the sandbox share these modules, so both exercise the same
emulated behaviour.
"""
