"""What the engines heard and saw, made ready to judge: one spoken answer (VAD, end of answer, recognition)
and faces (identity, quality, liveness features, live monitoring)."""
