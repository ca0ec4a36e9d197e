"""The Transformer itself: attention, masks, positions, blocks, the GPT, sampling, caches, counts."""
