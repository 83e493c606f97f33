"""Transfer: the event package (``monev-event/1``) and rubric import/export between instances."""
