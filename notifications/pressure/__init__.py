"""Marketing pressure: consent, the global cap, quiet hours, blackout periods and open complaints."""
