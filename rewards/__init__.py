"""What members receive: reward catalog, vouchers and redemption, badges, challenges, games."""
