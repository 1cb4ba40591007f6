"""Authentication: logging in, access and refresh tokens, who the caller is."""
