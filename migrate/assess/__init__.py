"""Assess stage of wsl2-migrate."""
