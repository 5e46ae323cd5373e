"""Sample collector bundles (wsl2-migrate-bundle/1) a newcomer can scan without a Windows machine."""
