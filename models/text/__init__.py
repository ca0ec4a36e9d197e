"""Text to vectors: bag-of-words, word2vec, tokenizers, the bundled corpora."""
