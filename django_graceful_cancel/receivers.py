"""The app's own signal receivers, connected in ``AppConfig.ready()``."""
