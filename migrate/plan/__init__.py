"""Plan stage of wsl2-migrate."""
