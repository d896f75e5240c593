"""The video lifecycle, validation and routing rules; no I/O and no transport types here."""
