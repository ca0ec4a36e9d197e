"""The PyTorch core: pure computation that the pages draw. Never imports streamlit."""
