"""Quality checks after the session: the closed recording re-checked (answers re-recognised, faces
re-monitored) against what was decided live."""
