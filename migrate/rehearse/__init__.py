"""Rehearsal: run a plan's engine steps against real engines, then verify."""
