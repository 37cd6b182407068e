"""Vouchers: issued by a redemption, used once at a till or online, cancellable while unused."""
