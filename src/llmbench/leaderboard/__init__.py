"""Leaderboards generated from runs: ``llmbench report``.

runs.py loads results.json / sweep.json files, merge.py joins them into one row per
serving setup, reference.py loads the seed's published results, ranking.py orders rows
and picks category winners, tables.py lays out the tables that markdown.py and page.py
render, and plots.py draws the figures.
"""
