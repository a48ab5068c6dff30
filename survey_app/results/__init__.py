"""Figures of a campaign: its response frame and design, the dashboard, the unit manager's view, the public index
(pages and JSON), suppression of small groups, the response-quality queue, and the services behind `survey indices`,
`weight`, `par-index` and `estimate`."""
