"""Background work. Every step reads its work from the database and can be run
once by a test (``run_once``), so nothing depends on timing."""
