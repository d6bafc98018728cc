"""Operations on a deployed stage: dead-letter queue re-drive and garbage collection of orphaned data."""
