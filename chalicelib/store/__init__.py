"""Storage: artifact data in S3 with metadata in DynamoDB, and the launch-plan registry."""
