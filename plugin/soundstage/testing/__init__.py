"""soundstage.testing."""
