"""The program's configuration: settings and earning rules, stored as data (design rule 8)."""
