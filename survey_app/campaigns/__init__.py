"""Campaigns: create, open/pause/close, targets and live counts; the questionnaire catalogue and its admin page;
the analyst's workspace pages (controllers.py, pages.py) and the demo province.

Figures come from analysis/ through survey_app/results (`frames.campaign_frame` + `analysis.sipas`), never recomputed
here.
"""
