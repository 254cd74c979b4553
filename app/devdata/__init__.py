"""Demo data per area, and the README sections generated from the code."""
