"""Postal mail, the fifth channel, as an export for the brand's mailing house."""
