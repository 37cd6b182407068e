"""Members: enrolment, profile, consents, card numbers and referral codes."""
