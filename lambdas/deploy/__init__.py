"""The Deploy pipeline action: the approved version onto the stage's endpoint."""
