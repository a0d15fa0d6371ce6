"""Pure domain logic: kinds, normalisation, probe keys, TLP and scoring. No Flask, no SQL."""
