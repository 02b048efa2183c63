"""The Bake pipeline action: the stage's alarms watched for the configured minutes."""
