"""soundstage.design."""
