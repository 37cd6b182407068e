"""The back office's pages, one module per area; each adds its routes to ``app.backoffice.bp``."""
