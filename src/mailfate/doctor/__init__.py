"""Find the cause and write the fix: DNS authentication checks, receiver checklists, header
analysis, spam-law lint and postmaster inquiries (``mailfate doctor``, ``mailfate report``)."""
