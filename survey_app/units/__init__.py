"""Units and counters: the unit tree, procedure domains, counters, their signed QR codes and posters."""
