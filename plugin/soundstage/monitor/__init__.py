"""soundstage.monitor."""
