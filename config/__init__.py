"""Settings, secrets and the packaged rule data (TOML)."""
