"""VideoStore / KeyStore adapters."""
