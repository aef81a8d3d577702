"""The plan and its files: tables extracted from a solved model, the independent checker,
charts, and the files a run writes."""
