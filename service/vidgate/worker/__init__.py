"""Background work: running generations, publishing their changes, purging expired files."""
