"""Emit stage of wsl2-migrate."""
