"""The SmokeTest pipeline action: one request to the endpoint, checked."""
