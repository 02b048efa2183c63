"""The recorder: CodePipeline state changes → ledger, registry write-back, notifications."""
