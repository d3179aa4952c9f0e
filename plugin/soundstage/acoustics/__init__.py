"""soundstage.acoustics."""
