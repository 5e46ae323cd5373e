"""Render stage of wsl2-migrate."""
