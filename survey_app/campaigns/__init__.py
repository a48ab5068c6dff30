"""The analyst's workspace: campaigns (create, open/pause/close, live counts), the response-quality queue, the
dashboard of indices per campaign, and the unit manager's view of their own unit.

Figures come from analysis/ (`survey_app.results.analysis.campaign_frame` + `analysis.sipas`), never recomputed here.
"""
