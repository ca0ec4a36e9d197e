"""One experiment per page, named after its page key; labs never import each other."""
