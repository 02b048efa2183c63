"""Code shared by every Greenlight Lambda function (packaged with each of them)."""
