"""The dossier feed: completed dossiers from the province's one-stop system (API or CSV/XLSX import), each with a
one-time rating link and QR code; the stored dossiers are also the SIPAS sampling frame (docs/integration.md)."""
