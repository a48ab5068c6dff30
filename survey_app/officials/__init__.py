"""Officials drawn at random answer with a one-time invitation code: draws, tracking and the answer path; dossier draws
and printable slips (the services behind `survey sample`)."""
