"""Paper mode: printed, numbered questionnaires; double keyed entry of returned copies; answering a copy online."""
