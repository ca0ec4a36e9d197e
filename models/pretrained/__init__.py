"""Every model a page can run: the bundled tiny GPTs, MiniLM, a user's model."""
