"""Page bodies of the app; the files in ui/app_pages/ only call their ``render()``."""
