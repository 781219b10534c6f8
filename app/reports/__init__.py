"""What the ledger says about runs: listings, gaps and islands, the status report."""
