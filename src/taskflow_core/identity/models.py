# identity keeps no tables of its own: it works on `accounts.User` (docs/architecture.md).
