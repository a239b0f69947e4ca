"""Serving: launch recipes (serve/*.yaml) and a tensor-parallel / memory planner."""
