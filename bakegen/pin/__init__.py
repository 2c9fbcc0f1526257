"""bakegen pin: the OCI distribution client and the lock of base-image digests."""
