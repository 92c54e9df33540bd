"""Operating the service: backups, restores and the checks after them."""
