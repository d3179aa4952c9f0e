"""Head models behind one interface (:class:`~.base.HeadModel`)."""
