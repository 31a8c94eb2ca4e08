"""The fidelity set: partner catalogues with a hand-decided truth, and the scorer of the merged
catalogue the hub makes of them (README.md)."""
